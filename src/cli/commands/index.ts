// The list of CLI subcommands. Each command lives in its own module and exports
// a yargs CommandModule; adding a command means adding one line here.

import type { CommandModule } from "yargs";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [];
