/**
 * The REST client of the server extension (`<base_url>/jupyter-mlops/...`). Requests go
 * through ServerConnection, which adds the auth and XSRF headers Jupyter requires; replies
 * are checked by `replies.ts`; failures become ApiError with the server's message.
 */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { parseDeployments, parseRollback, parseRollout } from './deployments';
import { ILiveRunsApi, parseLiveRuns } from './liveRuns';
import { parseMonitoring } from './monitoring';
import { parsePipelineReply } from './pipeline';
import { parsePromotion } from './promotion';
import {
  isRecord,
  parseExtract,
  parseModels,
  parseRunHistory,
  parseRunList,
  parseRunSnapshot,
  parseVersion
} from './replies';
import {
  ApiError,
  IDeploymentsApi,
  IDeploymentsJSON,
  IExtractReply,
  ILiveRunJSON,
  IMlopsApi,
  IModelsJSON,
  IMonitoringApi,
  IMonitoringJSON,
  IPromoteRequest,
  IPromotionJSON,
  IRunHistory,
  IRunRequest,
  IRolloutJSON,
  IRunStatusJSON,
  PipelineReply
} from './types';

/** The URL namespace of the server extension. */
export const API_NAMESPACE = 'jupyter-mlops';

/** The `_xsrf` cookie's value (null without one, or when cookies cannot be read). */
function xsrfCookie(): string | null {
  let cookie = '';
  try {
    cookie = document.cookie;
  } catch {
    // e.g. a SecurityError under a sandboxing Content-Security-Policy
  }
  return cookie.match('\\b_xsrf=([^;]*)\\b')?.[1] ?? null;
}

export class MlopsApi implements IMlopsApi, IDeploymentsApi, IMonitoringApi, ILiveRunsApi {
  constructor(
    private readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {}

  /** One request; the reply's JSON, or ApiError (status 0 when the server is unreachable). */
  private async request(
    endpoint: string,
    query: Record<string, string> = {},
    init: RequestInit = {}
  ): Promise<unknown> {
    const search = new URLSearchParams(query).toString();
    const url =
      URLExt.join(this.settings.baseUrl, API_NAMESPACE, endpoint) + (search ? `?${search}` : '');
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, this.settings);
    } catch (error) {
      throw new ApiError(0, `cannot reach the Jupyter server: ${(error as Error).message}`);
    }
    const body = await response.text();
    let data: unknown = null;
    try {
      data = body ? JSON.parse(body) : null;
    } catch {
      data = null;
    }
    if (!response.ok) {
      const details = isRecord(data) ? data : {};
      const message =
        typeof details.message === 'string'
          ? details.message
          : `${response.status} ${response.statusText || 'error'} from ${endpoint}`;
      throw new ApiError(response.status, message, details);
    }
    return data;
  }

  private post(endpoint: string, body: unknown): Promise<unknown> {
    return this.request(endpoint, {}, { method: 'POST', body: JSON.stringify(body) });
  }

  async version(): Promise<string> {
    return parseVersion(await this.request('version'));
  }

  async pipeline(path: string, content: unknown): Promise<PipelineReply> {
    return parsePipelineReply(await this.post('pipeline', { path, content }));
  }

  async extract(path: string): Promise<IExtractReply> {
    return parseExtract(await this.post('extract', { path }));
  }

  async startRun(request: IRunRequest): Promise<IRunStatusJSON> {
    return parseRunSnapshot(await this.post('run', request));
  }

  async runStatus(id: string, path?: string): Promise<IRunStatusJSON> {
    const query: Record<string, string> = path ? { log: '20', path } : { log: '20' };
    return parseRunSnapshot(await this.request(`run/${encodeURIComponent(id)}`, query));
  }

  async cancelRun(id: string): Promise<IRunStatusJSON> {
    return parseRunSnapshot(
      await this.request(`run/${encodeURIComponent(id)}`, {}, { method: 'DELETE' })
    );
  }

  async activeRuns(): Promise<IRunStatusJSON[]> {
    return parseRunList(await this.request('run'));
  }

  /**
   * `GET run?path=`: every run of the notebook's pipeline, started anywhere, newest first
   * (without log tails: the run followed in the panel has its own).
   */
  async liveRuns(path: string): Promise<ILiveRunJSON[]> {
    return parseLiveRuns(await this.request('run', { path, log: '0' }));
  }

  async history(path: string): Promise<IRunHistory> {
    return parseRunHistory(await this.request('runs', { path, limit: '5' }));
  }

  async models(name: string, path: string): Promise<IModelsJSON> {
    return parseModels(await this.request(`models/${encodeURIComponent(name)}`, { path }));
  }

  async promote(request: IPromoteRequest): Promise<IPromotionJSON> {
    const { name, ...body } = request;
    return parsePromotion(await this.post(`models/${encodeURIComponent(name)}/promote`, body));
  }

  async deployments(path: string): Promise<IDeploymentsJSON> {
    return parseDeployments(await this.request('deployments', { path }));
  }

  async deploy(path: string, target: string, version?: string): Promise<IRolloutJSON> {
    const body = version ? { path, target, version } : { path, target };
    return parseRollout(await this.post('deployments/deploy', body));
  }

  async rollout(id: string): Promise<IRolloutJSON> {
    return parseRollout(await this.request(`deployments/rollouts/${encodeURIComponent(id)}`));
  }

  async stopRollout(id: string): Promise<IRolloutJSON> {
    return parseRollout(
      await this.request(`deployments/rollouts/${encodeURIComponent(id)}`, {}, { method: 'DELETE' })
    );
  }

  async rollback(path: string, target: string): Promise<string> {
    return parseRollback(await this.post('deployments/rollback', { path, target }));
  }

  async monitoring(path: string): Promise<IMonitoringJSON> {
    return parseMonitoring(await this.request('monitoring', { path }));
  }

  /**
   * `GET monitoring/report` as a page URL: a new tab sends the login cookie, not the
   * headers ServerConnection adds, so the `_xsrf` cookie goes in the query as JupyterLab's
   * file download URLs do (the server checks it as jupyter_server's `/files/` does).
   */
  reportUrl(path: string, model: string): string {
    const query: Record<string, string> = { path, model };
    const xsrf = xsrfCookie();
    if (xsrf) {
      query._xsrf = xsrf;
    }
    const search = new URLSearchParams(query).toString();
    return URLExt.join(this.settings.baseUrl, API_NAMESPACE, 'monitoring/report') + `?${search}`;
  }
}
