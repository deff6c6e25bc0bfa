// Where a simulated job's files live: `<root>/<job>/chk-<n>/`, `<root>/<job>/shared/`,
// `<root>/<job>/taskowned/` (Flink's filesystem checkpoint storage layout), and
// the URI form of a storage path as written into `_metadata`.

export const METADATA_FILE_NAME = "_metadata";

export class JobLayout {
  readonly jobDir: string;
  readonly sharedDir: string;
  readonly taskOwnedDir: string;

  constructor(
    readonly fsUri: string,
    root: string,
    readonly jobId: string,
  ) {
    this.jobDir = `${root === "/" ? "" : root}/${jobId}`;
    this.sharedDir = `${this.jobDir}/shared`;
    this.taskOwnedDir = `${this.jobDir}/taskowned`;
  }

  checkpointDir(id: number): string {
    return `${this.jobDir}/chk-${id}`;
  }

  metadataPath(id: number): string {
    return `${this.checkpointDir(id)}/${METADATA_FILE_NAME}`;
  }

  /** The URI Flink would record for a storage path. */
  uri(path: string): string {
    return `${this.fsUri}${path}`;
  }

  /** The storage path of a URI under fsUri, or null for a URI elsewhere. */
  pathOf(uri: string): string | null {
    return uri.startsWith(`${this.fsUri}/`) ? uri.slice(this.fsUri.length) : null;
  }
}
