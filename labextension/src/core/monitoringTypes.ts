/**
 * Shapes of the Monitoring section's REST reply (`GET monitoring?path=`) and the interface
 * the section calls the server through; re-exported by `types.ts`.
 */

/** One feature of a monitoring window: its drift test, statistic and outcome. */
export interface IColumnDriftJSON {
  column: string;
  /** "ks", "chi2", "psi", …; null when the window does not say. */
  test: string | null;
  statistic: number | null;
  drifted: boolean;
}

/** One point of a performance trend (a window's `perf.<metric>`). */
export interface ITrendPointJSON {
  start: string;
  value: number;
  /** Estimated without labels (CBPE). */
  estimated: boolean;
}

/** The latest monitoring window of a model. */
export interface IMonitoringWindowJSON {
  start: string;
  end: string;
  rows: number | null;
  /** Rows per model version. */
  versions: Record<string, number> | null;
  driftShare: number | null;
  datasetDrifted: boolean | null;
  columns: IColumnDriftJSON[];
  predictionDrift: { statistic: number | null; drifted: boolean | null } | null;
  performance: { metrics: Record<string, number>; estimated: boolean } | null;
  report: boolean;
}

/** One registered model of the pipeline in `GET monitoring`. */
export interface IModelMonitoringJSON {
  name: string;
  step: string;
  experiment: string;
  monitored: boolean;
  /** How to start monitoring it (never monitored). */
  hint: string | null;
  /** Why its windows could not be read. */
  problem: string | null;
  latest: IMonitoringWindowJSON | null;
  /** Windows the trend covers. */
  trendWindows: number;
  /** perf.<metric> series, oldest first. */
  trend: Record<string, ITrendPointJSON[]>;
}

/** One trigger of the pipeline's `triggers:` section with its state. */
export interface ITriggerStateJSON {
  name: string;
  kind: string;
  settings: string;
  deploy: string | null;
  lastEvaluated: string | null;
  lastFired: string | null;
  reason: string | null;
  runStatus: string | null;
  cooldownRemainingSeconds: number;
}

/** `GET monitoring?path=`. */
export interface IMonitoringJSON {
  pipeline: string | null;
  problem: string | null;
  models: IModelMonitoringJSON[];
  triggers: ITriggerStateJSON[];
  triggersProblem: string | null;
}

/** What the Monitoring section needs from the server (the real one is `api.ts`). */
export interface IMonitoringApi {
  monitoring(path: string): Promise<IMonitoringJSON>;
  /** The URL of `GET monitoring/report` for `model`, to open as a page in a new tab. */
  reportUrl(path: string, model: string): string;
}
