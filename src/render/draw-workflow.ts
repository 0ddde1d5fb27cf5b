// Picks the workflow picture asked for: DOT text, a viewer URL (printed, never opened) or SVG. Pure apart from svg,
// which runs graphviz; never opens a browser.
import type { WorkflowGraphInput } from "./workflow-graph.js";

export async function drawWorkflow(parts: WorkflowGraphInput, format: "dot" | "doturl" | "svg", viewer: string): Promise<string> {
  const { workflowToDot, dotUrl } = await import("./workflow-graph.js");
  const dot = workflowToDot(parts);
  if (format === "dot") return dot;
  if (format === "doturl") return dotUrl(dot, viewer);
  const { renderSvg } = await import("./svg.js");
  return renderSvg(dot);
}
