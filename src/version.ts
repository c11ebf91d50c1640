// The simnas version, read from package.json so that reports, caches and artifacts agree with it.
import pkg from '../package.json' with { type: 'json' };

export const SIMNAS_VERSION: string = pkg.version;
