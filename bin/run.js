#!/usr/bin/env node
// The tsflyte command: oclif reads the generated manifest and loads only the command it runs.
import { execute } from "@oclif/core";

await execute({ dir: import.meta.url });
