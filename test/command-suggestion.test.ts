// The nearest real command for a mistyped one, as oclif hands it over (words joined by ':' up to the first flag):
// whole commands, topic subcommands and flytectl's plural aliases, with the arguments kept in the suggestion.
import assert from "node:assert/strict";
import { test } from "node:test";
import { unknownCommandError, type ListedCommand } from "../src/command-suggestion.js";

const commands: ListedCommand[] = [
  { id: "run" },
  { id: "register" },
  { id: "get:execution", hiddenAliases: ["get:executions"] },
  { id: "get:executions", hidden: true, hiddenAliases: ["get:executions"] },
  { id: "get:task", hiddenAliases: ["get:tasks"] },
  { id: "get:tasks", hidden: true, hiddenAliases: ["get:tasks"] },
  { id: "get:workflow" },
  { id: "create:execution", hiddenAliases: ["create:executions"] },
  { id: "create:project" },
  { id: "kubernetes:drive", hidden: true },
];

const suggest = (id: string, argv: string[] = []) => unknownCommandError(commands, id, argv);

test("a mistyped subcommand of a topic gets the real one, with its arguments and flags", () => {
  const err = suggest("get:exectuion:a8f3k2", ["--details", "-o", "yaml"]);
  assert.equal(err.message, 'tsflyte has no command "get exectuion"');
  assert.equal(err.hint, "did you mean `tsflyte get execution a8f3k2 --details -o yaml`?");
});

test("a mistyped topic is fixed and then its subcommand too", () => {
  assert.equal(suggest("creat:execution", ["--recover", "x"]).hint, "did you mean `tsflyte create execution --recover x`?");
  assert.equal(suggest("creat:exectuion").hint, "did you mean `tsflyte create execution`?");
});

test("a word closest to an alias suggests the command it stands for", () => {
  assert.equal(suggest("get:tasksx").hint, "did you mean `tsflyte get task`?");
});

test("a whole command and a bare topic", () => {
  assert.equal(suggest("rnu:examples/spend.ts").hint, "did you mean `tsflyte run examples/spend.ts`?");
  assert.equal(suggest("gett").hint, "did you mean `tsflyte get`?");
});

test("arguments that a shell would split or expand are quoted in the suggestion", () => {
  assert.equal(suggest("creat:execution", ["--name", "it's two words"]).hint, "did you mean `tsflyte create execution --name 'it'\\''s two words'`?");
});

test("nothing near: the error lists the commands at that level, without aliases or hidden commands", () => {
  const top = suggest("frobnicate");
  assert.equal(top.message, 'tsflyte has no command "frobnicate"');
  assert.equal(top.hint, "`tsflyte --help` lists the commands: create, get, register, run");
  const sub = suggest("get:foo:bar");
  assert.equal(sub.message, 'tsflyte has no command "get foo"');
  assert.equal(sub.hint, "`tsflyte get --help` lists the get commands: execution, task, workflow");
});
