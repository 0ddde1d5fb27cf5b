// One task behind a one-node workflow: the smallest thing `tsflyte run` can run, used by bench/startup.ts.
// No zod and no other imports, so that what it costs to start is tsflyte's own.
import { task, workflow, t } from "tsflyte";

export const greet = task({ inputs: { who: t.string() }, outputs: t.string() }, async ({ who }) => `hello, ${who}`);

export const hello = workflow({ inputs: { who: t.string().default("world") }, outputs: t.string() }, ({ who }) => greet({ who }));
