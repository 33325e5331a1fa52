// Optional filters of list queries, as one WHERE clause with numbered parameters in
// either backend's style; the limit goes last. One copy for every list method.

/** Parameter n's placeholder: `?n` on SQLite, `$n` on PostgreSQL. */
export type Placeholder = (n: number) => string;
export const SQLITE_PARAM: Placeholder = (n) => `?${n}`;
export const PG_PARAM: Placeholder = (n) => `$${n}`;

export class Filter<V> {
  readonly params: V[] = [];
  readonly #where: string[] = [];
  readonly #param: Placeholder;

  constructor(param: Placeholder) {
    this.#param = param;
  }

  /** Adds `clause` when its first value is given; each `?` in it becomes the next parameter. */
  add(clause: string, ...values: (V | undefined)[]): this {
    if (values[0] === undefined) return this;
    let i = 0;
    this.#where.push(
      clause.replace(/\?/g, () => {
        this.params.push(values[i++] as V);
        return this.#param(this.params.length);
      }),
    );
    return this;
  }

  /** The `WHERE …` clause (empty without conditions), and the limit's placeholder after its parameters. */
  end(limit: V): { where: string; limit: string } {
    this.params.push(limit);
    return {
      where: this.#where.length > 0 ? `WHERE ${this.#where.join(' AND ')}` : '',
      limit: this.#param(this.params.length),
    };
  }
}
