// schemas/config.schema.json agrees with the reader: files resolveConfig accepts validate, files it refuses do not.
// Never reads a config from outside this test.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { Ajv2020 } from "ajv/dist/2020.js";

const schema = JSON.parse(readFileSync(new URL("../../../schemas/config.schema.json", import.meta.url), "utf8")) as object;
const validate = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);

test("the files tsflyte writes and a full flytectl file validate", () => {
  const files = [
    "admin:\n  endpoint: dns:///127.0.0.1:30080\n  insecure: true\ntask:\n  project: flytesnacks\n  domain: development\n",
    "# Written by `tsflyte config init`\nadmin:\n  endpoint: dns:///flyte.example.com\n  insecure: false\n",
    "admin:\n  endpoint: localhost:30080\n  authType: Pkce\n  insecure: true\n  authTokenFile: ~/.flyte/token\nconsole:\n  endpoint: http://localhost:30080/console\nlogger:\n  level: 0\nstorage:\n  type: stow\ndotViewer: http://graph.flyte.org/#\n",
    "admin:\n  endpoint: https://flyte.example.com/\ntask:\n  project:\n",
  ];
  for (const text of files) assert.ok(validate(parse(text)), `${text}\n${JSON.stringify(validate.errors)}`);
});

test("the mistakes resolveConfig refuses are flagged in the editor too", () => {
  const files = [
    "admin:\n  insecure: yes\n",
    "admin:\n  endpoint: 127.0.0.1:30080/api/v1\n",
    "admin:\n  endpoint: flyte example.com\n",
    "admin: dns:///h:1\n",
    "task:\n  project: 42\n",
    "dotViewer: graph.flyte.org\n",
  ];
  for (const text of files) assert.equal(validate(parse(text)), false, text);
});
