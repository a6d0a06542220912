/**
 * Where `vigil ci` puts its artefacts, relative to the working directory. A module of its own, without
 * imports, because the CLI's help states the default without loading the CI gate.
 */

/** The default artefact folder (a link to the last finished run's folder). */
export const DEFAULT_OUT_DIR = '.vigil/ci'
/** Where each run's own folder is made. */
export const RUNS_DIR = '.vigil/runs'
