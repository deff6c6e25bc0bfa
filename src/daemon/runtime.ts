// Building the engine a command or the daemon runs from a Config: both sides
// opened by replication/sides.ts (one bundle per side), the engine with its
// metrics hooks, and NameNode switches of either side published on the
// engine's event stream (which feeds the hooks).

import type { Config } from "../config/load.js";
import type { Logger } from "../util/log.js";
import { Engine, type EngineHooks } from "../replication/index.js";
import { openSides } from "../replication/sides.js";

export function createEngine(config: Config, logger: Logger, hooks: EngineHooks = {}, useLease = true): Engine {
  let engine: Engine | undefined;
  const sides = openSides(config, logger, { onFailover: (e) => engine?.events.publish({ type: "failover", ...e }) });
  engine = new Engine({ config, source: sides.source.storage, target: sides.target.storage, logger, hooks, useLease });
  return engine;
}
