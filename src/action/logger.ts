// The pipeline's Logger routed to @actions/core (log lines, warnings as annotations, debug lines,
// log groups). Its own module so the bootstrap can use it without loading the main bundle.
import * as core from '@actions/core';

import type { Logger } from '../util/log.js';

export const actionsLogger: Logger = {
  info: (message) => core.info(message),
  warn: (message) => core.warning(message),
  debug: (message) => core.debug(message),
  group: (title, body) => core.group(title, body),
};
