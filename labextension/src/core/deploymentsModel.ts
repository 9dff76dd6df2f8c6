/**
 * The Deployments section's state and what changes it, without widgets or the DOM: the
 * deploy targets of the followed notebook's pipeline (`GET deployments`), rollouts started
 * from the panel and followed to their outcome (`POST deployments/deploy`, then
 * `GET deployments/rollouts/<id>` every `pollMs`; the targets are reloaded every
 * `reloadEvery` polls, so the traffic split shows live), and rollbacks. A rollout the server
 * already runs for a target (after a page reload) is picked up, and can be stopped (it rolls
 * back at its next step). Confirmation is the view's.
 */

import { rolloutOutcome, STOPPING } from './deployments';
import { FollowedReply, IFollowedState, messageOf } from './followedReply';
import { ApiError, IDeploymentsApi, IDeploymentsJSON, IRolloutJSON } from './types';

/** Consecutive failed polls after which a rollout is reported lost. */
export const MAX_ROLLOUT_POLL_FAILURES = 5;

/** What a Deploy or Rollback button started, per target. */
export interface ITargetAction {
  kind: 'deploy' | 'rollback';
  busy: boolean;
  /** The rollout followed (deploy), with its progress lines. */
  rollout: IRolloutJSON | null;
  message: string | null;
  failed: boolean;
}

export interface IDeploymentsState extends IFollowedState<IDeploymentsJSON> {
  /** By target name. */
  actions: Record<string, ITargetAction>;
}

export const NO_DEPLOYMENTS: IDeploymentsState = {
  path: null,
  loading: false,
  reply: null,
  message: null,
  actions: {}
};

export class DeploymentsModel extends FollowedReply<IDeploymentsJSON, IDeploymentsState> {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly failures = new Map<string, number>();
  /** The rollout followed per target. */
  private readonly following = new Map<string, string>();
  private polls = 0;
  /** Bumped when another path is followed: replies for the one before are dropped. */
  private generation = 0;

  constructor(
    private readonly api: IDeploymentsApi,
    private readonly pollMs = 1000,
    private readonly reloadEvery = 5
  ) {
    super(NO_DEPLOYMENTS);
  }

  protected fetch(path: string): Promise<IDeploymentsJSON> {
    return this.api.deployments(path);
  }

  /** A rollout the server already runs for a target is followed. */
  protected onLoaded(reply: IDeploymentsJSON): void {
    for (const target of reply.targets) {
      if (target.active_rollout && !this.busy(target.name)) {
        this.follows(target.name, target.active_rollout);
      }
    }
  }

  protected onLeave(): void {
    this.generation++;
    this.stopPolls();
  }

  private setAction(target: string, action: ITargetAction): void {
    this.update({ actions: { ...this.state.actions, [target]: action } });
  }

  /** True while a deploy or rollback of `target` goes on. */
  busy(target: string): boolean {
    return this.state.actions[target]?.busy === true;
  }

  /** Start a rollout of `version` (default: the challenger) to `target`, and follow it. */
  async deploy(target: string, version?: string): Promise<void> {
    const path = this.state.path;
    if (!path || this.busy(target)) {
      return;
    }
    const generation = this.generation;
    this.setAction(target, {
      kind: 'deploy',
      busy: true,
      rollout: null,
      message: 'starting the rollout…',
      failed: false
    });
    try {
      const rollout = await this.api.deploy(path, target, version);
      if (generation === this.generation) {
        this.onRollout(target, rollout);
      }
    } catch (error) {
      if (generation !== this.generation) {
        return;
      }
      const going = error instanceof ApiError && error.status === 409 ? error.details.id : null;
      if (typeof going === 'string') {
        this.follows(target, going);
        return;
      }
      this.setAction(target, {
        kind: 'deploy',
        busy: false,
        rollout: null,
        message: messageOf(error),
        failed: true
      });
    }
  }

  /** Move `target`'s alias back to its previous version, then reload. */
  async rollback(target: string): Promise<void> {
    const path = this.state.path;
    if (!path || this.busy(target)) {
      return;
    }
    const generation = this.generation;
    const action: ITargetAction = {
      kind: 'rollback',
      busy: true,
      rollout: null,
      message: 'rolling back…',
      failed: false
    };
    this.setAction(target, action);
    let done: ITargetAction;
    try {
      done = { ...action, busy: false, message: await this.api.rollback(path, target) };
    } catch (error) {
      done = { ...action, busy: false, message: messageOf(error), failed: true };
    }
    if (generation === this.generation) {
      this.setAction(target, done);
      await this.load();
    }
  }

  /** Ask the rollout followed for `target` to stop: it rolls back at its next step. */
  async stop(target: string): Promise<void> {
    const id = this.following.get(target);
    const action = this.state.actions[target];
    if (id === undefined || !action?.busy) {
      return;
    }
    const generation = this.generation;
    try {
      await this.api.stopRollout(id);
      if (generation === this.generation && this.busy(target)) {
        this.setAction(target, {
          ...this.state.actions[target],
          message: STOPPING
        });
      }
    } catch (error) {
      // 409: it had already ended; the next poll shows how.
      const ended = error instanceof ApiError && error.status === 409;
      if (!ended && generation === this.generation && this.busy(target)) {
        this.setAction(target, {
          ...this.state.actions[target],
          message: `cannot stop the rollout: ${messageOf(error)}`
        });
      }
    }
  }

  /** Follow rollout `id` of `target`, which the server already runs. */
  private follows(target: string, id: string): void {
    this.setAction(target, {
      kind: 'deploy',
      busy: true,
      rollout: null,
      message: `following rollout ${id}…`,
      failed: false
    });
    this.schedule(target, id);
  }

  private onRollout(target: string, rollout: IRolloutJSON): void {
    const finished = rollout.status !== 'running';
    this.setAction(target, {
      kind: 'deploy',
      busy: !finished,
      rollout,
      message: rolloutOutcome(rollout),
      failed: rollout.status === 'failed' || rollout.status === 'rolled_back'
    });
    if (finished) {
      this.following.delete(target);
      void this.load();
    } else {
      this.schedule(target, rollout.id);
    }
  }

  private schedule(target: string, id: string): void {
    this.stopPoll(target);
    this.following.set(target, id);
    this.timers.set(
      target,
      setTimeout(() => void this.poll(target, id), this.pollMs)
    );
  }

  /** One `GET deployments/rollouts/<id>`; a 404 or repeated failures end the follow. */
  async poll(target: string, id: string): Promise<void> {
    this.timers.delete(target);
    const generation = this.generation;
    try {
      const rollout = await this.api.rollout(id);
      if (generation !== this.generation) {
        return;
      }
      this.failures.delete(target);
      this.onRollout(target, rollout);
      if (rollout.status === 'running' && ++this.polls % this.reloadEvery === 0) {
        void this.load();
      }
    } catch (error) {
      if (generation !== this.generation) {
        return;
      }
      const failures = (this.failures.get(target) ?? 0) + 1;
      this.failures.set(target, failures);
      const gone = error instanceof ApiError && error.status === 404;
      if (gone || failures >= MAX_ROLLOUT_POLL_FAILURES) {
        this.failures.delete(target);
        this.following.delete(target);
        const current = this.state.actions[target];
        this.setAction(target, {
          kind: 'deploy',
          busy: false,
          rollout: current?.rollout ?? null,
          message: gone
            ? `the server no longer knows rollout ${id}`
            : `lost the rollout: ${messageOf(error)}`,
          failed: true
        });
      } else {
        this.schedule(target, id);
      }
    }
  }

  private stopPoll(target: string): void {
    const timer = this.timers.get(target);
    if (timer !== undefined) {
      clearTimeout(timer);
      this.timers.delete(target);
    }
  }

  private stopPolls(): void {
    for (const target of [...this.timers.keys()]) {
      this.stopPoll(target);
    }
    this.failures.clear();
    this.following.clear();
  }
}
