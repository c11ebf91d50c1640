// Where human-readable progress and warnings go. The CLI writes to stderr; the action routes the
// same calls to @actions/core, so pipeline code never chooses an output channel itself.

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
  /** A named, collapsible section (a log group in Actions); returns what `body` returns. */
  group<T>(title: string, body: () => Promise<T>): Promise<T>;
}

export const stderrLogger: Logger = {
  info: (message) => process.stderr.write(`${message}\n`),
  warn: (message) => process.stderr.write(`warning: ${message}\n`),
  debug: (message) => {
    if (process.env.SIMNAS_DEBUG) process.stderr.write(`debug: ${message}\n`);
  },
  group: async (title, body) => {
    process.stderr.write(`== ${title}\n`);
    return body();
  },
};

export const silentLogger: Logger = {
  info: () => {},
  warn: () => {},
  debug: () => {},
  group: async (_title, body) => body(),
};
