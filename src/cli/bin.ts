#!/usr/bin/env node
// Executable entry of the `ckpt-replicator` command.
import { runCli } from "./main.js";

await runCli();
