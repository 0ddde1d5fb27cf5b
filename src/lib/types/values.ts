// Value classes for data that lives in the blob store: files, directories and stored tables, named by URI.
// Never reads or writes data here; the engine moves bytes, these only name them.
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const schemeRe = /^[a-z][a-z0-9+.-]*:\/\//i;

function toUri(pathOrUri: string): string {
  return schemeRe.test(pathOrUri) ? pathOrUri : pathToFileURL(isAbsolute(pathOrUri) ? pathOrUri : resolve(pathOrUri)).href;
}

/** A single file, by URI. `FlyteFile.from("data.csv")` turns a local path into a `file://` URI. */
export class FlyteFile {
  constructor(readonly uri: string) {}
  static from(pathOrUri: string): FlyteFile {
    return new FlyteFile(toUri(pathOrUri));
  }
  toString(): string {
    return this.uri;
  }
  toJSON(): string {
    return this.uri;
  }
}

/** A directory of files, by URI. */
export class FlyteDirectory {
  constructor(readonly uri: string) {}
  static from(pathOrUri: string): FlyteDirectory {
    return new FlyteDirectory(toUri(pathOrUri));
  }
  toString(): string {
    return this.uri;
  }
  toJSON(): string {
    return this.uri;
  }
}

/** A table already stored at a URI (Parquet by default), usable where a `t.dataframe()` is expected. */
export class StructuredDataset {
  readonly uri: string;
  constructor(
    uri: string,
    readonly format?: string,
  ) {
    this.uri = toUri(uri);
  }
  toJSON(): string {
    return this.uri;
  }
}
