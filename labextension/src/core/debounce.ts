/**
 * A trailing-edge debouncer: `schedule()` runs the callback once `delay` ms after the
 * last call. No DOM or JupyterLab needed (jest drives it with fake timers).
 */
export class Debouncer {
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly callback: () => void,
    readonly delay: number
  ) {}

  /** (Re)start the countdown. */
  schedule(): void {
    this.cancel();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.callback();
    }, this.delay);
  }

  /** True while a call is pending. */
  get pending(): boolean {
    return this.timer !== null;
  }

  /** Drop the pending call, if any. */
  cancel(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /** Run the pending call now (nothing happens when none is pending). */
  flush(): void {
    if (this.timer !== null) {
      this.cancel();
      this.callback();
    }
  }
}
