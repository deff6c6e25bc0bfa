// Building the engine a command or the daemon runs from a Config: both sides
// opened by replication/sides.ts (one bundle per side), the engine with its
// metrics hooks, and NameNode switches of either side reported to the hooks.

import type { Config } from "../config/load.js";
import type { Logger } from "../util/log.js";
import { Engine, type EngineHooks } from "../replication/index.js";
import { openSides } from "../replication/sides.js";

export function createEngine(config: Config, logger: Logger, hooks: EngineHooks = {}, useLease = true): Engine {
  const onFailover = hooks.onNamenodeFailover;
  const sides = openSides(config, logger, onFailover ? { onFailover: (e) => onFailover(e.cluster, e.from, e.to) } : {});
  return new Engine({ config, source: sides.source.storage, target: sides.target.storage, logger, hooks, useLease });
}
