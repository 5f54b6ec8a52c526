/**
 * Run an async task one call at a time, in call order. Route reloads go through it: two quick
 * reloads whose installs overlapped could finish out of order and leave the older table in force.
 */
export function oneAtATime<A extends unknown[]>(task: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  let tail: Promise<void> = Promise.resolve();
  return (...args: A) => {
    const run = tail.then(() => task(...args));
    // a failed run must not stop later ones; its caller still sees the failure
    tail = run.catch(() => undefined);
    return run;
  };
}
