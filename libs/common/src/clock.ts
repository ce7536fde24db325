/** Injected everywhere time matters so time rules are tested by moving the clock, not by waiting. */
export abstract class Clock {
  abstract now(): Date;
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

/** A clock tests can set and advance; production never binds it. */
export class AdjustableClock extends Clock {
  private offsetMs = 0;
  private fixed: Date | undefined;

  now(): Date {
    return this.fixed ? new Date(this.fixed.getTime()) : new Date(Date.now() + this.offsetMs);
  }
  set(at: Date): void {
    this.fixed = new Date(at.getTime());
  }
  advance(ms: number): void {
    if (this.fixed) this.fixed = new Date(this.fixed.getTime() + ms);
    else this.offsetMs += ms;
  }
  reset(): void {
    this.fixed = undefined;
    this.offsetMs = 0;
  }
}
