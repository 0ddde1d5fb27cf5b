// Gates: a release that waits for a person to approve the trained model, takes a batch size given from outside, and
// lets the canary settle for a while before it reports. Locally `run` asks on the terminal, or takes --signal answers.
import { task, workflow, after, approve, waitForInput, sleep, t } from "tsflyte";

export const train = task(
  { description: "trains a model and returns its name", inputs: { epochs: t.int() }, outputs: t.string() },
  async ({ epochs }) => `model-e${epochs}`,
);

export const deploy = task(
  { description: "deploys a model with a batch size", inputs: { model: t.string(), batchSize: t.int() }, outputs: t.string() },
  async ({ model, batchSize }) => `${model} deployed (batch size ${batchSize})`,
);

export const report = task({ inputs: { deployment: t.string() }, outputs: t.string() }, async ({ deployment }) => `ok: ${deployment}`);

export const release = workflow({ inputs: { epochs: t.int().default(3) }, outputs: t.string() }, ({ epochs }) => {
  const model = approve(train({ epochs }), "deploy-ok", { timeout: "1h" });
  const batchSize = waitForInput("batch-size", { type: t.int(), timeout: "1h" });
  const deployment = deploy({ model, batchSize });
  return after(report({ deployment }), sleep("2s"));
});
