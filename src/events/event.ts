// Events as the bus takes, stores, matches and delivers them, and what its calls answer
// (the shapes of EventBridge's PutEvents). Imports nothing: handlers, workflows and the
// API name these without the bus itself.

/** One event to put on the bus. */
export interface PutEventEntry {
  /** Who sent it, e.g. `shop.orders`. */
  readonly source: string;
  /** What happened, e.g. `Order Placed`. */
  readonly detailType: string;
  /** A JSON object (or its JSON text). */
  readonly detail: unknown;
  /** When it happened: a Date or ISO 8601 text; default now. */
  readonly time?: string | Date;
  /** The event's id; a second put with a stored id stores nothing. Default: a random UUID. */
  readonly id?: string;
}

export type PutEventResultEntry =
  | { readonly eventId: string }
  | { readonly errorCode: string; readonly errorMessage: string };

/** As EventBridge PutEvents: one result per entry, in order. */
export interface PutEventsResult {
  readonly failedEntryCount: number;
  readonly entries: readonly PutEventResultEntry[];
}

/** An event as rules match it and targets receive it (unless the rule reshapes it). */
export interface BusEvent {
  readonly id: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: unknown;
  /** ISO 8601. */
  readonly time: string;
  /** Present (true) when the event is delivered again by a replay. */
  readonly replayed?: true;
}

/** A stored event, as `get` returns it. */
export interface StoredEvent extends BusEvent {
  readonly putAt: string;
  readonly routedAt: string | null;
}

export interface ReplayOptions {
  readonly from: string | Date;
  readonly to: string | Date;
  /** Only this rule; default every rule. */
  readonly rule?: string;
}

export interface ReplayResult {
  readonly replayId: string;
  /** Events in the range. */
  readonly events: number;
  /** Messages sent to targets. */
  readonly deliveries: number;
}

/** What a function's handler is given of the bus as `ctx.events`: putting events, as `ms.events.put`. */
export interface EventPublisher {
  put(entries: readonly PutEventEntry[]): Promise<PutEventsResult>;
}
