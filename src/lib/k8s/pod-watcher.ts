// One watch over an execution's task pods, shared by all its attempts: the latest state of each pod by name, and a
// nudge to whoever follows it. Never decides what a state means (pod-failure.ts does) and never polls per pod.
import type { V1Pod } from "@kubernetes/client-node";
import type { Cluster } from "./cluster.js";

export type WatchedPod = V1Pod | "deleted";

export class PodWatcher {
  private readonly pods = new Map<string, WatchedPod>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private running?: Promise<void>;
  private request?: { abort(): void };
  private closed = false;
  private failures = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly namespace: string,
    private readonly labelSelector: string,
    private readonly log?: (line: string) => void,
  ) {}

  /** Resolves once the first list is in, so `get` knows every pod that existed before. */
  start(): Promise<void> {
    this.running ??= this.listAndWatch();
    return this.running;
  }

  get(name: string): WatchedPod | undefined {
    return this.pods.get(name);
  }

  /** Calls `fn` on every change to the pod; returns the function that stops it. */
  onChange(name: string, fn: () => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (!set.size) this.listeners.delete(name);
    };
  }

  close(): void {
    this.closed = true;
    this.request?.abort();
  }

  private set(name: string, pod: WatchedPod): void {
    this.pods.set(name, pod);
    for (const fn of this.listeners.get(name) ?? []) fn();
  }

  private async listAndWatch(): Promise<void> {
    const list = await this.cluster.core.listNamespacedPod({ namespace: this.namespace, labelSelector: this.labelSelector });
    const seen = new Set<string>();
    for (const pod of list.items) {
      const name = pod.metadata!.name!;
      seen.add(name);
      this.set(name, pod);
    }
    // A pod that went away while no watch was open.
    for (const [name, pod] of this.pods) if (pod !== "deleted" && !seen.has(name)) this.set(name, "deleted");
    await this.watchFrom(list.metadata?.resourceVersion);
  }

  private async watchFrom(resourceVersion: string | undefined): Promise<void> {
    if (this.closed) return;
    const watch = new this.cluster.k8s.Watch(this.cluster.kc);
    let latest = resourceVersion;
    let gone = false;
    this.request = await watch.watch(
      `/api/v1/namespaces/${this.namespace}/pods`,
      { labelSelector: this.labelSelector, resourceVersion, allowWatchBookmarks: true },
      (type: string, object: V1Pod & { code?: number }) => {
        if (type === "ERROR") {
          // 410 Gone: the version is too old to watch from; list again.
          gone = true;
          return;
        }
        latest = object.metadata?.resourceVersion ?? latest;
        if (type === "BOOKMARK") return;
        const name = object.metadata?.name;
        if (!name) return;
        this.set(name, type === "DELETED" ? "deleted" : object);
        this.failures = 0;
      },
      (err: unknown) => {
        if (this.closed) return;
        if (err) this.log?.(`the watch on task pods in ${this.namespace} ended (${(err as Error).message ?? String(err)}); watching again`);
        // Watches end by design (server timeouts); a failing one backs off a little so it does not spin.
        const delay = err ? Math.min(5000, 100 * 2 ** this.failures++) : 0;
        setTimeout(() => {
          const next = gone || !latest ? this.listAndWatch() : this.watchFrom(latest);
          next.catch((e: unknown) => {
            this.log?.(`could not watch task pods in ${this.namespace}: ${(e as Error).message}`);
            this.failures++;
            setTimeout(() => void this.listAndWatch().catch(() => undefined), Math.min(5000, 100 * 2 ** this.failures));
          });
        }, delay).unref();
      },
    );
  }
}
