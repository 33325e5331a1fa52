// The longest name or id of each kind a user chooses. One number per kind serves the check
// at creation (library, config and API alike), the API's path-parameter schema, and through
// LONGEST_NAME the router's limit: a name that can be created can always be reached by URL.

export const NAME_LIMITS = {
  queue: 80,
  function: 100,
  workflow: 100,
  schedule: 200,
  task: 200,
  execution: 200,
  lock: 200,
  eventRule: 40,
  /** A caller-chosen event id (`put` entries' `id`), reached at GET /v1/events/:id. */
  event: 128,
  fileTrigger: 30,
} as const;

export type NamedKind = keyof typeof NAME_LIMITS;

export const LONGEST_NAME = Math.max(...Object.values(NAME_LIMITS));
