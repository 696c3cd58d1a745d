/**
 * Application traffic of a swarm run: every node submits at Poisson
 * intervals while traffic is on and the node is up.
 */
import type { AppModel } from './app.ts';
import type { Cluster } from './cluster.ts';

export class Traffic {
  on = true;

  constructor(private readonly cluster: Cluster, private readonly app: AppModel) {}

  /** every node submits at Poisson intervals, whenever traffic is on and it is up. */
  start(): void {
    for (const id of this.cluster.ids) this.cluster.after(this.app.interval(), () => this.tick(id));
  }

  private tick(id: number): void {
    if (this.on && this.cluster.isUp(id)) {
      const submission = this.app.next(id);
      const result = this.cluster.submit(id, submission.payload, submission.guarantee);
      if (result === 'ok') this.app.accepted(id, submission.counter);
    }
    this.cluster.after(this.app.interval(), () => this.tick(id));
  }
}
