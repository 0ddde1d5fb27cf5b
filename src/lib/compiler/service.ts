// What `tsflyte compile` does, without flags or printing: compile the paths and write the package.
// Never writes anything when compiling failed.
import { resolve } from "node:path";
import { compileProject } from "./compile.js";
import { writePackage, type PackageFormat, type PackagedFile } from "./package.js";

export interface CompileToPackageOptions {
  paths: string[];
  outDir: string;
  format: PackageFormat;
  image?: string;
  version?: string;
  project?: string;
  domain?: string;
}

export interface CompileToPackageResult {
  outDir: string;
  version: string;
  project: string;
  domain: string;
  files: PackagedFile[];
}

export async function compileToPackage(options: CompileToPackageOptions): Promise<CompileToPackageResult> {
  const compiled = await compileProject(options);
  const outDir = resolve(options.outDir);
  const files = writePackage(compiled, outDir, options.format);
  return { outDir: options.outDir, version: compiled.version, project: compiled.project, domain: compiled.domain, files };
}
