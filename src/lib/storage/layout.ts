// Where an execution's data lives in the blob store, in Flyte's layout:
// <base>/<project>-<domain>-<execution>/<node>/data/inputs.pb and <node>/data/<attempt>/{outputs,error}.pb.

export interface ExecutionPaths {
  project: string;
  domain: string;
  name: string;
}

/** `<base>/<project>-<domain>-<name>`: everything one execution writes. */
export function executionPrefix(baseUri: string, e: ExecutionPaths): string {
  return `${baseUri}/metadata/${e.project}-${e.domain}-${e.name}`;
}

/** The execution's inputs, as FlyteAdmin offloads them. */
export function executionInputsUri(baseUri: string, e: ExecutionPaths): string {
  return `${executionPrefix(baseUri, e)}/inputs.pb`;
}

/** The workflow's outputs. */
export function executionOutputsUri(baseUri: string, e: ExecutionPaths): string {
  return `${executionPrefix(baseUri, e)}/outputs.pb`;
}

export function nodeInputsUri(baseUri: string, e: ExecutionPaths, nodeId: string): string {
  return `${executionPrefix(baseUri, e)}/${nodeId}/data/inputs.pb`;
}

/** The `--output-prefix` of one attempt: it holds exactly one of outputs.pb and error.pb, and logs.txt. */
export function attemptOutputPrefix(baseUri: string, e: ExecutionPaths, nodeId: string, attempt: number): string {
  return `${executionPrefix(baseUri, e)}/${nodeId}/data/${attempt}`;
}

/**
 * The `--raw-output-data-prefix` of one attempt: offloaded files, directories and tables. Under the execution's own
 * prefix (spec.raw_output_data_config) when it has one, else under `<base>/raw`.
 */
export function rawOutputPrefix(baseUri: string, e: ExecutionPaths, nodeId: string, attempt: number, rawBase?: string): string {
  return `${rawBase ?? `${baseUri}/raw`}/${e.project}-${e.domain}-${e.name}/${nodeId}/${attempt}`;
}

/** Where a local run uploads the files, directories and tables given as its inputs. */
export function uploadPrefix(baseUri: string, e: ExecutionPaths): string {
  return `${baseUri}/raw/${e.project}-${e.domain}-${e.name}/inputs`;
}
