// What `tsflyte compile` does, without flags or printing: compile the paths and write the package — a folder of
// entity files, or (for a .tgz/.tar.gz output) one archive with the code bundle that a registrar retargets.
// Never writes anything when compiling failed.
import { resolve } from "node:path";
import { UserError } from "../errors.js";
import { compileProject } from "./compile.js";
import { writePackage, writePackageArchive, type PackageFormat, type PackagedFile } from "./package.js";
import { blankRegistrationFields, remotePackagePathPlaceholder } from "./registration-ids.js";

export interface CompileToPackageOptions {
  paths: string[];
  /** A folder, or a file ending in .tgz or .tar.gz for a package archive. */
  outDir: string;
  format: PackageFormat;
  image?: string;
  version?: string;
  project?: string;
  domain?: string;
}

export interface CompileToPackageResult {
  outDir: string;
  /** Empty in an archive that leaves it to the registrar (no --version given). */
  version: string;
  /** Empty in an archive: the registrar's project and domain are used. */
  project: string;
  domain: string;
  files: PackagedFile[];
  /** In an archive: the code bundle's file in it. */
  codeBundle?: string;
}

export function isPackageArchive(path: string): boolean {
  return /\.(tgz|tar\.gz)$/.test(path);
}

export async function compileToPackage(options: CompileToPackageOptions): Promise<CompileToPackageResult> {
  if (!isPackageArchive(options.outDir)) {
    const compiled = await compileProject(options);
    const files = writePackage(compiled, resolve(options.outDir), options.format);
    return { outDir: options.outDir, version: compiled.version, project: compiled.project, domain: compiled.domain, files };
  }
  if (options.format !== "pb") {
    throw new UserError(`a package archive (${options.outDir}) holds .pb files, as registrars read them`, "drop --format json, or write a folder with --output DIR");
  }
  // Tasks find their code where the registrar uploads the bundle; project, domain and version are the registrar's.
  const compiled = await compileProject({ ...options, codeBundleUri: () => remotePackagePathPlaceholder });
  blankRegistrationFields(compiled, compiled, options.version !== undefined);
  const written = writePackageArchive(compiled, resolve(options.outDir), compiled.bundle);
  return { outDir: options.outDir, version: options.version ?? "", project: "", domain: "", files: written.files, codeBundle: written.codeBundle };
}
