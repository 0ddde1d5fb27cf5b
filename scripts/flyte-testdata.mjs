#!/usr/bin/env node
// Registers Flyte's own test workflows (flytepropeller's compiler testdata, flytectl's register packages) into a
// throw-away `tsflyte serve` and draws each registered workflow. Never copies Flyte's files into this repository.
//
//   node scripts/flyte-testdata.mjs [FLYTE_CHECKOUT]    (needs `npm run build`; svg needs graphviz `dot`)
//
// Without a checkout, the two testdata folders are extracted with `git archive` from the local mirror's `master`.
/* global setTimeout, clearTimeout, fetch */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const mirror = "/work/.mirror/flyteorg+flyte/repo";
const folders = ["flytepropeller/pkg/compiler/test/testdata", "flytectl/cmd/register/testdata"];
const project = "flytesnacks";
const domain = "development";

const scratch = mkdtempSync(join(tmpdir(), "tsflyte-flyte-testdata-"));
let server;
try {
  const checkout = process.argv[2] ?? extractFromMirror(join(scratch, "flyte"));
  server = await startServe(join(scratch, "home"));
  const rows = [];
  for (const source of sources(checkout)) rows.push(await registerAndDraw(source, server.url));
  printTable(rows);
} finally {
  server?.child.kill("SIGTERM");
  rmSync(scratch, { recursive: true, force: true });
}

function extractFromMirror(into) {
  mkdirSync(into, { recursive: true });
  const tar = execFileSync("git", ["-C", mirror, "archive", "master", ...folders], { maxBuffer: 1 << 28 });
  execFileSync("tar", ["-x", "-C", into], { input: tar });
  return into;
}

/** What to register, one `register files` call each: a folder of .pb files, a package, or converted JSON. */
function* sources(checkout) {
  const compilerData = join(checkout, folders[0]);
  // Only the entity files: compiled/ and k8s/ next to them are propeller's expected outputs, not entities.
  const snacks = join(compilerData, "snacks-core");
  const snackFiles = readdirSync(snacks).filter((f) => f.endsWith(".pb")).sort();
  yield { name: "snacks-core", paths: snackFiles.map((f) => join(snacks, f)), version: "snacks" };
  for (const sub of ["branch", "dynamic"]) {
    const dir = join(compilerData, sub);
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
      const version = versionOf(`${sub}-${file}`);
      const doc = JSON.parse(readFileSync(join(dir, file), "utf8"));
      // dynamic/ holds a DynamicJobSpec (what a dynamic task returns): drawn as the workflow its nodes make.
      if (!doc.workflow && doc.nodes) doc.workflow = workflowOfDynamicJob(doc, `${sub}.${versionOf(file)}`);
      yield { name: `${sub}/${file}`, requests: createRequests(doc, version), version };
    }
  }
  const registerData = join(checkout, folders[1]);
  for (const file of readdirSync(registerData).sort()) {
    if (!statSync(join(registerData, file)).isFile()) continue;
    yield { name: `register/${file}`, paths: [join(registerData, file)], version: versionOf(file) };
  }
}

function versionOf(text) {
  return text.replace(/\.(json|tgz|tar|zip|pb)$/, "").replace(/[^A-Za-z0-9_-]/g, "-");
}

/**
 * propeller's `{workflow, tasks, subworkflows?}` JSON (proto JSON of the core templates) → the admin create requests
 * `POST /api/v1/tasks` and `/workflows` take, every identifier moved to this project, domain and version. No launch
 * plan: `get workflow` does not need one, and these files carry none.
 */
/** A workflow template from a DynamicJobSpec's nodes and outputs, its output types read from what produces them. */
function workflowOfDynamicJob(job, name) {
  const outputsOf = (nodeId) => {
    const node = job.nodes.find((n) => n.id === nodeId);
    const ref = node?.taskNode?.referenceId ?? node?.workflowNode?.subWorkflowRef;
    const template = [...(job.tasks ?? []), ...(job.subworkflows ?? [])].find((t) => t.id?.name === ref?.name);
    return template?.interface?.outputs?.variables ?? {};
  };
  const variables = {};
  for (const b of job.outputs ?? []) {
    const p = b.binding?.promise;
    if (p) variables[b.var] = outputsOf(p.nodeId)[p.var];
  }
  return { id: { resourceType: "WORKFLOW", name }, interface: { inputs: { variables: {} }, outputs: { variables } }, nodes: job.nodes, outputs: job.outputs ?? [] };
}

function createRequests(doc, version) {
  const place = (value) => {
    if (Array.isArray(value)) return value.forEach(place);
    if (!value || typeof value !== "object") return;
    if (typeof value.resourceType === "string" && "name" in value) Object.assign(value, { project, domain, version });
    for (const v of Object.values(value)) place(v);
  };
  place(doc);
  const requests = [];
  for (const task of doc.tasks ?? []) {
    const template = task.template ?? task;
    requests.push({ kind: "task", name: template.id.name, path: "tasks", body: { id: template.id, spec: { template } } });
  }
  const subWorkflows = doc.subworkflows ?? doc.subWorkflows ?? [];
  requests.push({ kind: "workflow", name: doc.workflow.id.name, path: "workflows", body: { id: doc.workflow.id, spec: { template: doc.workflow, subWorkflows } } });
  return requests;
}

function startServe(home) {
  const child = spawn(process.execPath, [join(repoRoot, "bin/run.js"), "serve", "--port", "0", "--workers", "1"], {
    cwd: repoRoot,
    env: { ...process.env, TSFLYTE_HOME: home },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tsflyte serve did not start:\n${out}`)), 30_000);
    const seen = (chunk) => {
      out += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    };
    child.stdout.on("data", seen);
    child.stderr.on("data", seen);
    child.once("exit", (code) => reject(new Error(`tsflyte serve exited ${code}:\n${out}`)));
  });
}

function cli(url, args) {
  const r = spawnSync(process.execPath, [join(repoRoot, "bin/run.js"), ...args], {
    cwd: repoRoot,
    env: { ...process.env, TSFLYTE_ADMIN_ENDPOINT: url, TSFLYTE_HOME: join(scratch, "cli-home") },
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function registerAndDraw(source, url) {
  const row = { source: source.name, registered: 0, refused: [], workflows: 0, rendered: 0, drawFailures: [] };
  const entities = source.requests ? await post(url, source.requests, source.version) : registerFiles(url, source, row);
  for (const e of entities) {
    if (e.status === "registered" || e.status === "existed") row.registered++;
    else row.refused.push({ entity: `${e.kind} ${e.name}`, reason: firstLine(e.error ?? e.status) });
  }
  for (const e of entities.filter((x) => x.kind === "workflow" && (x.status === "registered" || x.status === "existed"))) {
    row.workflows++;
    let drawn = true;
    for (const format of ["dot", "doturl", "svg"]) {
      const d = cli(url, ["get", "workflow", e.name, "--version", e.version, "-p", project, "-d", domain, "-o", format]);
      const ok = d.code === 0 && (format === "dot" ? d.stdout.startsWith("strict digraph") : format === "doturl" ? d.stdout.startsWith("http") : d.stdout.includes("<svg"));
      if (!ok) {
        drawn = false;
        row.drawFailures.push(`${e.name} -o ${format}: ${firstLine(d.stderr || d.stdout)}`);
      }
    }
    if (drawn) row.rendered++;
  }
  return row;
}

/** Sends the create requests in order, as `register files` would: each entity registered or refused with the reason. */
async function post(url, requests, version) {
  const entities = [];
  for (const r of requests) {
    const response = await fetch(`${url}/api/v1/${r.path}`, { method: "POST", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(r.body) });
    const text = await response.text();
    let reason = text;
    try {
      reason = JSON.parse(text).message ?? text;
    } catch {
      // not JSON: the text is the reason
    }
    entities.push({ kind: r.kind, name: r.name, version, status: response.ok ? "registered" : response.status === 409 ? "existed" : "failed", error: response.ok ? undefined : `${response.status} ${reason}` });
  }
  return entities;
}

/**
 * `register files` on a folder or package with --continue-on-error: what it registered and refused, read from its
 * per-entity lines (`[✔] task NAME  registered`, `[✖] …  not registered` with the reason indented below), since its
 * --json output on failure carries only the summary.
 */
function registerFiles(url, source, row) {
  const r = cli(url, ["register", "files", ...source.paths, "--version", source.version, "-p", project, "-d", domain, "--continue-on-error"]);
  const entities = [];
  const kinds = { task: "task", workflow: "workflow", "launch plan": "launchPlan" };
  for (const line of `${r.stdout}\n${r.stderr}`.split("\n")) {
    const m = /^\[(.)\] (task|workflow|launch plan)\s+(\S+)\s+(.*)$/.exec(line);
    if (m) {
      const failed = m[1] !== "✔";
      entities.push({ kind: kinds[m[2]], name: m[3], version: source.version, status: failed ? "failed" : "registered", error: failed ? m[4].trim() : undefined });
    } else if (/^\s{2,}\S/.test(line) && entities.at(-1)?.status === "failed") {
      entities.at(-1).error = `${entities.at(-1).error}: ${line.trim()}`;
    }
  }
  if (!entities.length) row.refused.push({ entity: "(package)", reason: firstLine(r.stderr || r.stdout) });
  return entities;
}

/** A reason on one line: the message's lines joined, bullets dropped, at most 400 characters. */
function firstLine(text) {
  const joined = String(text ?? "")
    .split("\n")
    .map((l) => l.trim().replace(/^- /, ""))
    .filter(Boolean)
    .join(" | ");
  return joined.length > 400 ? `${joined.slice(0, 399)}…` : joined;
}

/** Reasons grouped: the entity-specific part (names, versions) taken out so that like refusals count together. */
function reasonKey(reason) {
  return reason
    .replace(/(task|workflow|launch plan) \S+ version \S+/g, "$1 NAME version V")
    .replace(/node \S+/g, "node N")
    .replace(/"[^"]*"/g, '"…"')
    .slice(0, 220);
}

function printTable(rows) {
  const header = ["source", "registered", "refused", "workflows", "rendered"];
  const lines = rows.map((r) => [r.source, String(r.registered), String(r.refused.length), String(r.workflows), String(r.rendered)]);
  const total = ["TOTAL", ...[1, 2, 3, 4].map((i) => String(lines.reduce((s, l) => s + Number(l[i]), 0)))];
  const widths = header.map((h, i) => Math.max(h.length, total[i].length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(fmt(header));
  for (const l of lines) console.log(fmt(l));
  console.log(fmt(total));
  const groups = new Map();
  for (const r of rows) {
    for (const f of r.refused) {
      const key = reasonKey(f.reason);
      const g = groups.get(key) ?? { count: 0, sources: new Set(), example: f };
      g.count++;
      g.sources.add(r.source);
      groups.set(key, g);
    }
  }
  if (groups.size) {
    console.log("\nrefusals, grouped by reason:");
    for (const [, g] of [...groups].sort((a, b) => b[1].count - a[1].count)) {
      console.log(`  ${g.count} × ${g.example.reason}\n      e.g. ${g.example.entity} in ${[...g.sources].join(", ")}`);
    }
  }
  const drawFailures = rows.flatMap((r) => r.drawFailures.map((f) => `${r.source}: ${f}`));
  if (drawFailures.length) {
    console.log("\ndrawing failures:");
    for (const f of drawFailures) console.log(`  ${f}`);
  }
  if (!existsSync("/usr/bin/dot") && !existsSync("/usr/local/bin/dot")) console.log("\n(graphviz `dot` not found: svg fails)");
}
