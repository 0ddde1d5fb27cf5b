// Runs the spend workflow in-process by calling it like a function, as a user's own script or unit test would.
// Does nothing when another module imports it (so `tsflyte compile examples` never runs it).
import { pathToFileURL } from "node:url";
import { calculateSpend, totalSpend } from "./spend.js";

export async function main(): Promise<void> {
  const emp = [
    { name: "ada", pay: 120 },
    { name: "grace", pay: 95.5 },
  ];
  console.log("totalSpend        →", await totalSpend({ rows: emp }));
  console.log("calculateSpend    →", await calculateSpend({ emp }));
  console.log("calculateSpend ×3 →", await calculateSpend({ emp, scalar: 3 }));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
