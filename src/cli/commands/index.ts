// The list of CLI subcommands. Each command lives in its own module and exports
// a yargs CommandModule; adding a command means adding one line here.

import type { CommandModule } from "yargs";
import { checkConfigCommand } from "./check-config.js";
import { demoCommand } from "./demo.js";
import { inspectCommand } from "./inspect.js";
import { jobsCommand } from "./jobs.js";
import { latestCommand } from "./latest.js";
import { resyncCommand } from "./resync.js";
import { rewriteMetadataCommand } from "./rewrite-metadata.js";
import { runCommand } from "./run.js";
import { sandboxCommand } from "./sandbox.js";
import { simulateJobCommand } from "./simulate-job.js";
import { verifyCommand } from "./verify.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  runCommand,
  resyncCommand,
  verifyCommand,
  latestCommand,
  jobsCommand,
  checkConfigCommand,
  inspectCommand,
  rewriteMetadataCommand,
  sandboxCommand,
  simulateJobCommand,
  demoCommand,
];
