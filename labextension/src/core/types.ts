/**
 * Shapes of the server extension's REST API (`/jupyter-mlops/...`, see
 * `jupyter_mlops/handlers.py` and README) and the interface the panel model calls it
 * through. No JupyterLab imports here: tests hand the model a fake implementation.
 */

import type { IPromoteRequest, IPromotionJSON } from './promotion';
export type { IPromoteRequest, IPromotionJSON } from './promotion';
export type * from './monitoringTypes';

/** One step as `jupyter mlops show --json` prints it. */
export interface IStepJSON {
  name: string;
  /** 1-based cell number, every cell counted (markdown too). */
  cell: number;
  /** input variable -> the step producing it */
  inputs: Record<string, string>;
  outputs: string[];
  params: string[];
}

/** `jupyter mlops show --json`. */
export interface IPipelineJSON {
  name: string;
  params: Record<string, unknown>;
  /** Each parameter's type from its default (int, float, bool, str, list, any), when sent. */
  param_types?: Record<string, string>;
  steps: IStepJSON[];
}

/** One extraction problem; `cell` is 1-based like `IStepJSON.cell`. */
export interface IExtractionError {
  cell: number | null;
  step: string | null;
  /** The variable or option concerned, if any. */
  name?: string | null;
  message: string;
}

/** `GET/POST pipeline`: the pipeline, or why it cannot be extracted. */
export type PipelineReply = IPipelineJSON | { errors: IExtractionError[] };

/** `POST extract {path}`: the package written from the saved notebook. */
export interface IExtractReply {
  pipeline: string;
  /** The pipeline folder, relative to the server root. */
  folder: string;
  steps: string[];
  /** Files written or removed (relative to the server root); [] when nothing changed. */
  changed: string[];
  warnings: string[];
}

/** Step states while a run goes on (the runner's progress states). */
export type StepState =
  'waiting' | 'running' | 'ran' | 'cached' | 'failed' | 'not_run' | 'cancelled';

export interface IStepStatus {
  state: StepState;
  seconds: number;
}

/** Whole-run states; the server's `cancelling` is reported as running (still going). */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** `GET run/<id>` (and the `POST run` reply): a run the server started, normalized. */
export interface IRunStatusJSON {
  id: string;
  /** The notebook or folder that runs, relative to the server root. */
  path: string;
  pipeline: string;
  status: RunStatus;
  elapsed: number;
  /** Steps in pipeline order. */
  steps: Record<string, IStepStatus>;
  /** The last lines the run printed. */
  log: string[];
  /** True while the steps are done and the run is being recorded in MLflow. */
  recording: boolean;
  /** The MLflow (parent) run, once known. */
  run_id: string | null;
  model_version: string | null;
  metrics: Record<string, number>;
  /** The model gate's decision on the version the run registered, if gates ran. */
  gate: IGateOutcome | null;
  error: string | null;
  /** Every parameter's value in the run (defaults included), when the server says. */
  params: Record<string, unknown> | null;
  /** Where the run was started: panel | widget | cli | ci | trigger, when the server says. */
  source?: string | null;
}

/** A model gate's decision (`summary.gates` of a finished run). */
export interface IGateOutcome {
  /** validated | rejected */
  outcome: string;
  reasons: string[];
}

/** One recent pipeline run recorded in MLflow (`GET runs?path=`). */
export interface IRunRecord {
  id: string;
  name: string | null;
  start: string | null;
  end: string | null;
  /** MLflow's run status (RUNNING, FINISHED, FAILED, KILLED). */
  status: string;
  /** The pipeline's own outcome tag (succeeded, failed), when recorded. */
  mlops_status: string | null;
  model_version: string | null;
  /** The model gate outcome (validated, rejected), when there was one. */
  gate: string | null;
  metrics: Record<string, number>;
  params: Record<string, string>;
  /** Where the run was started: panel | widget | cli | ci | trigger, when recorded. */
  started_from?: string | null;
  /** Why a failed run failed, when recorded. */
  error?: string | null;
}

export interface IRunHistory {
  pipeline: string;
  experiment_id: string | null;
  runs: IRunRecord[];
}

/** One registered model version (`GET models/<name>`). */
export interface IModelVersionJSON {
  version: string;
  aliases: string[];
  created_ms: number;
  run_id: string | null;
  pipeline_run_id: string | null;
  metrics: Record<string, number>;
  /** Parameters of the run that trained it, as MLflow recorded them (text). */
  params: Record<string, string>;
  /** Model validation outcome: validated | rejected | null (no gate ran). */
  gate: string | null;
  gate_reasons: string | null;
  /** Every `mlops.gate*` tag of the version. */
  gates: Record<string, string>;
}

export interface IModelsJSON {
  name: string;
  /** alias -> version */
  aliases: Record<string, string>;
  versions: IModelVersionJSON[];
  /**
   * Every registered model of the pipeline at `path` (one per `--model` step), when the
   * server knows them; the panel asks for each one by name.
   */
  models?: string[];
  /** The `--model` step that registers this model, when the server says. */
  step?: string | null;
}

/** A REST call that failed: the HTTP status (0 when the server was unreachable) and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The other fields of the error body (e.g. `id` of the run already going on a 409). */
    readonly details: Record<string, unknown> = {}
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A run request: the notebook and the parameter values that differ from the defaults. */
export interface IRunRequest {
  path: string;
  params: Record<string, unknown>;
}

/** What the panel model needs from the server (the real one is `api.ts`). */
export interface IMlopsApi {
  /** The server extension's version; ApiError 404 when it is not installed. */
  version(): Promise<string>;
  /** Scan the live notebook content (not the saved file). */
  pipeline(path: string, content: unknown): Promise<PipelineReply>;
  /** Extract the saved notebook into its pipeline package. */
  extract(path: string): Promise<IExtractReply>;
  /** Start a run; a run already going for the same pipeline is an ApiError 409. */
  startRun(request: IRunRequest): Promise<IRunStatusJSON>;
  /** `path`: the notebook, so the server also finds runs started elsewhere (live records). */
  runStatus(id: string, path?: string): Promise<IRunStatusJSON>;
  cancelRun(id: string): Promise<IRunStatusJSON>;
  /** The runs the server remembers (to pick up a run after a page reload). */
  activeRuns(): Promise<IRunStatusJSON[]>;
  history(path: string): Promise<IRunHistory>;
  models(name: string, path: string): Promise<IModelsJSON>;
  /** Move `alias` of model `name` to `version`; a gate-rejected version is ApiError 409. */
  promote?(request: IPromoteRequest): Promise<IPromotionJSON>;
}

/** One served version of a deploy target's service, with its metrics since it started. */
export interface IServedVersionJSON {
  version: string;
  /** Percent of the traffic it answers (0 for a shadow or standby version). */
  share: number;
  /** What it does in the split (e.g. stable, candidate, shadow, standby), when known. */
  role: string | null;
  stats: {
    requests: number;
    errors: number;
    error_rate: number;
    p99_ms: number | null;
  } | null;
}

/** What a target's prediction service answered (`reachable: false`: why it did not). */
export interface IServiceStateJSON {
  url: string;
  reachable: boolean;
  /** Why it could not be asked, or that it serves another model or alias. */
  problem: string | null;
  alias_version: string | null;
  ready: boolean;
  /** The rollout whose split it serves, if one is going on. */
  rollout: string | null;
  versions: IServedVersionJSON[];
}

/** One recorded move of an alias (the registry's history). */
export interface IAliasMoveJSON {
  /** ISO 8601 UTC. */
  time: string;
  user: string;
  alias: string;
  from: string | null;
  to: string | null;
  /** promote | register | gate | deploy | rollback | ... */
  reason: string;
  rollout: string | null;
  note: string | null;
}

/** One target of the pipeline's `deploy:` section, live (`GET deployments?path=`). */
/** What a batch, package or mlflow target holds now (`state` in `GET deployments`). */
export interface ITargetStateJSON {
  /** The model version it holds; null before its first deploy. */
  version: string | null;
  /** Where it is: the table, the package folder, the plugin's deployment. */
  where: string;
  /** One line on it: rows and time scored, when the package was built, the deployment's state. */
  detail: string;
  /** Why its state could not be read. */
  problem: string | null;
}

/** The last recorded rollout to a target (any kind): its outcome and measured checks. */
export interface IVerificationJSON {
  rollout: string | null;
  /** promoted | rolled_back */
  outcome: string | null;
  reason: string;
  time: string;
  /** Check name → measured value. */
  metrics: Record<string, number>;
}

export interface IDeployTargetJSON {
  name: string;
  /** rest | batch | package | mlflow */
  kind: string;
  alias: string;
  /** A rest target's service URL ('' for the other kinds). */
  url: string;
  /** canary | blue-green | ab | shadow (rest); swap (batch); replace (package, mlflow) */
  strategy: string;
  steps: number[];
  /** A rest target's service; null for the other kinds. */
  service: IServiceStateJSON | null;
  /** What a batch, package or mlflow target holds; null for a rest target. */
  state: ITargetStateJSON | null;
  verification: IVerificationJSON | null;
  /** Newest first. */
  history: IAliasMoveJSON[];
  /** The rollout to this target going on in the Jupyter server, if any. */
  active_rollout: string | null;
}

export interface IDeploymentsJSON {
  pipeline: string | null;
  model: string | null;
  /** Why the model or its history could not be read. */
  problem: string | null;
  targets: IDeployTargetJSON[];
}

/** The end states of a rollout started from the panel. */
export type RolloutStatus = 'running' | 'promoted' | 'rolled_back' | 'failed';

/** `POST deployments/deploy`, `GET deployments/rollouts/<id>`. */
export interface IRolloutJSON {
  id: string;
  target: string;
  /** The version rolled out: as asked, else the result's candidate once known. */
  version: string | null;
  status: RolloutStatus;
  /** Asked to stop, still running: it rolls back at its next step. */
  stopping: boolean;
  /** Its progress lines, oldest first. */
  progress: { kind: string; message: string }[];
  /** The result's one-line outcome reason (promoted: "every check passed"), when finished. */
  reason: string | null;
  error: string | null;
}

/** What the Deployments section needs from the server (the real one is `api.ts`). */
export interface IDeploymentsApi {
  deployments(path: string): Promise<IDeploymentsJSON>;
  /** Start a rollout; one already going to the target is an ApiError 409 (details.id). */
  deploy(path: string, target: string, version?: string): Promise<IRolloutJSON>;
  rollout(id: string): Promise<IRolloutJSON>;
  /** Ask a rollout to stop (it rolls back at its next step); 409 once it ended. */
  stopRollout(id: string): Promise<IRolloutJSON>;
  /** Move the target's alias back; returns the line saying what moved. */
  rollback(path: string, target: string): Promise<string>;
}

/**
 * One run of `GET run?path=`: a run of the pipeline started anywhere (panel, widget, CLI,
 * CI, trigger), as its live record (or the server's own snapshot) says.
 */
export interface ILiveRunJSON extends IRunStatusJSON {
  /** panel | widget | cli | ci | trigger (null: a server that does not say). */
  source: string | null;
  /** ISO 8601 UTC. */
  started: string | null;
  ended: string | null;
  /** The first step that failed, with its traceback (user code frames). */
  failed_step: string | null;
  traceback: string | null;
}
