// SVG output: the real graphviz `dot` (installed here and in CI) and the WebAssembly build both lay out the DOT the
// renderer writes, and bad DOT, a missing `dot` or a wedged one each end in a clear error, never a hang.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { compileProject } from "../../src/lib/compiler/compile.js";
import { workflowToDot } from "../../src/render/workflow-graph.js";
import { DotNotInstalledError, renderSvg, renderWithDotCommand } from "../../src/render/svg.js";
import { WorkflowTemplateSchema } from "../../src/lib/idl/gen/flyteidl/core/workflow_pb.js";
import { TaskTemplateSchema } from "../../src/lib/idl/gen/flyteidl/core/tasks_pb.js";
import { ResourceType } from "../../src/lib/idl/gen/flyteidl/core/identifier_pb.js";
import { UserError } from "../../src/lib/errors.js";

const fixtures = fileURLToPath(new URL("../fixtures/golden/", import.meta.url));

let diamond: Promise<string> | undefined;
function diamondDot(): Promise<string> {
  diamond ??= compileProject({ paths: [fixtures], version: "v1", image: "golden:1" }).then((project) => {
    const workflow = project.workflows.find((w) => w.name === "diamond.diamond")!;
    return workflowToDot({ workflow: workflow.spec.template!, subWorkflows: workflow.spec.subWorkflows, tasks: project.tasks.map((t) => t.spec.template!) });
  });
  return diamond;
}

/** The text of the SVG's <text> elements, entities decoded: graphviz versions differ in which characters they encode. */
function svgTexts(svg: string): string[] {
  const named: Record<string, string> = { quot: '"', amp: "&", lt: "<", gt: ">", apos: "'" };
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) =>
    m[1].replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) =>
      e.startsWith("#x") || e.startsWith("#X") ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith("#") ? String.fromCodePoint(Number(e.slice(1))) : (named[e] ?? all),
    ),
  );
}

function assertDiamondSvg(svg: string): void {
  assert.match(svg, /<svg/);
  const texts = svgTexts(svg);
  for (const label of ["split [typescript-task]", "square [typescript-task]", "join [typescript-task]", "start", "end"]) {
    assert.ok(texts.includes(label), `the SVG shows "${label}"`);
  }
}

test("engine dot: graphviz's own dot lays out the diamond", async () => {
  assertDiamondSvg(await renderSvg(await diamondDot(), { engine: "dot" }));
});

test("engine wasm: the WebAssembly graphviz lays out the diamond", async () => {
  assertDiamondSvg(await renderSvg(await diamondDot(), { engine: "wasm" }));
});

test("engine auto (the default) lays out the diamond", async () => {
  assertDiamondSvg(await renderSvg(await diamondDot()));
  assertDiamondSvg(await renderSvg(await diamondDot(), { engine: "auto" }));
});

test("escaped names survive both engines", async () => {
  const id = (name: string, resourceType: ResourceType) => ({ resourceType, project: "p", domain: "d", name, version: "v1" });
  const workflow = create(WorkflowTemplateSchema, {
    id: id('odd "wf" \\ name', ResourceType.WORKFLOW),
    nodes: [{ id: 'n"0', target: { case: "taskNode", value: { reference: { case: "referenceId", value: id('a.say"hi"', ResourceType.TASK) } } } }],
  });
  const tasks = [create(TaskTemplateSchema, { id: id('a.say"hi"', ResourceType.TASK), type: "back\\slash" })];
  const dot = workflowToDot({ workflow, subWorkflows: [], tasks });
  for (const engine of ["dot", "wasm"] as const) {
    const svg = await renderSvg(dot, { engine });
    assert.ok(svgTexts(svg).includes('say"hi" [back\\slash]'), `${engine}: ${svg}`);
    assert.ok(svgTexts(svg).includes('odd "wf" \\ name'), `${engine}: ${svg}`);
  }
});

test("a DOT syntax error is a clear error from either engine", async () => {
  for (const engine of ["dot", "wasm", "auto"] as const) {
    await assert.rejects(renderSvg('digraph { "a" -> ', { engine }), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /could not lay out the graph.*syntax error/s, `${engine}: ${error.message}`);
      return true;
    });
  }
});

test("a missing dot command is a UserError that names it", async () => {
  await assert.rejects(renderWithDotCommand("digraph { a }", { command: "tsflyte-no-such-dot" }), (error: unknown) => {
    assert.ok(error instanceof DotNotInstalledError);
    assert.ok(error instanceof UserError);
    assert.match(error.message, /tsflyte-no-such-dot.*not installed or not on PATH/);
    return true;
  });
});

test("auto falls back to WebAssembly when dot is not on PATH", async () => {
  const savedPath = process.env.PATH;
  process.env.PATH = mkdtempSync(join(tmpdir(), "tsflyte-empty-path-"));
  try {
    await assert.rejects(renderSvg(await diamondDot(), { engine: "dot" }), DotNotInstalledError);
    assertDiamondSvg(await renderSvg(await diamondDot(), { engine: "auto" }));
  } finally {
    rmSync(process.env.PATH, { recursive: true, force: true });
    process.env.PATH = savedPath;
  }
});

test("a dot that never finishes is stopped at the deadline", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsflyte-slow-dot-"));
  const slowDot = join(dir, "dot");
  writeFileSync(slowDot, "#!/bin/sh\nexec sleep 30\n");
  chmodSync(slowDot, 0o755);
  try {
    const started = Date.now();
    await assert.rejects(renderWithDotCommand("digraph { a }", { command: slowDot, timeoutMs: 300 }), /did not finish within 0\.3s/);
    assert.ok(Date.now() - started < 5_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
