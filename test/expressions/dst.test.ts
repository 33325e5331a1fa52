// The DST matrix: America/New_York, Europe/Berlin, Australia/Sydney and America/St_Johns
// on both 2026 changeover days, for daily times inside the gap and the overlap, hourly,
// every-15-minutes and rate() schedules, in AWS cron(), Unix cron and at(); plus
// Asia/Kolkata (no DST, +05:30) and Australia/Lord_Howe (a 30-minute DST shift).
//
// The rules under test (issue 3):
//  - AWS cron(): a time missing on the spring-forward day is skipped; a repeated time
//    fires once, at its first occurrence — sub-hourly expressions included.
//  - Unix cron: interval jobs follow real time (gap times do not occur, the repeated
//    hour runs twice); fixed-time jobs fire once in an overlap and at the end of a gap.
//  - at(): gap → end of the gap; repeated → first occurrence.
//  - rate(): a fixed period of real time.

import { describe, expect, it } from 'vitest';
import { fires, local } from './helpers.ts';

interface ZoneCase {
  zone: string;
  /** The spring-forward day; every zone here jumps from 02:00 to 03:00. */
  gapDay: string;
  /** The fall-back day and the wall hour that occurs twice on it. */
  overlapDay: string;
  overlapHour: number;
  std: string;
  dst: string;
}

const ZONES: ZoneCase[] = [
  {
    zone: 'America/New_York',
    gapDay: '2026-03-08',
    overlapDay: '2026-11-01',
    overlapHour: 1,
    std: '-05:00',
    dst: '-04:00',
  },
  {
    zone: 'Europe/Berlin',
    gapDay: '2026-03-29',
    overlapDay: '2026-10-25',
    overlapHour: 2,
    std: '+01:00',
    dst: '+02:00',
  },
  {
    zone: 'Australia/Sydney',
    gapDay: '2026-10-04',
    overlapDay: '2026-04-05',
    overlapHour: 2,
    std: '+10:00',
    dst: '+11:00',
  },
  {
    zone: 'America/St_Johns',
    gapDay: '2026-03-08',
    overlapDay: '2026-11-01',
    overlapHour: 1,
    std: '-03:30',
    dst: '-02:30',
  },
];

function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

const hh = (h: number, m = 0) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;

describe.each(ZONES)('$zone', ({ zone, gapDay, overlapDay, overlapHour: H, std, dst }) => {
  const opts = { timezone: zone };
  const at = (day: string, time: string, offset: string) => local(`${day} ${time} ${offset}`);

  describe(`spring forward on ${gapDay} (02:00 → 03:00)`, () => {
    const before = at(addDays(gapDay, -1), '12:00', std);

    it('daily 02:30: AWS skips the day', () => {
      expect(fires('cron(30 2 * * ? *)', before, 2, opts)).toEqual([
        at(addDays(gapDay, 1), '02:30', dst),
        at(addDays(gapDay, 2), '02:30', dst),
      ]);
    });

    it('daily 02:30: Unix fires at the end of the gap, 03:00', () => {
      expect(fires('30 2 * * *', before, 2, opts)).toEqual([
        at(gapDay, '03:00', dst),
        at(addDays(gapDay, 1), '02:30', dst),
      ]);
    });

    it('at(02:30) fires at the end of the gap, 03:00', () => {
      expect(fires(`at(${gapDay}T02:30:00)`, before, 2, opts)).toEqual([at(gapDay, '03:00', dst)]);
    });

    it('hourly: 02:00 does not exist, for AWS and Unix alike', () => {
      const expected = [at(gapDay, '01:00', std), at(gapDay, '03:00', dst), at(gapDay, '04:00', dst)];
      const from = at(gapDay, '00:30', std);
      expect(fires('cron(0 * * * ? *)', from, 3, opts)).toEqual(expected);
      expect(fires('0 * * * *', from, 3, opts)).toEqual(expected);
    });

    it('every 15 minutes: 01:45 is followed by 03:00, fifteen real minutes later', () => {
      const expected = [at(gapDay, '01:45', std), at(gapDay, '03:00', dst), at(gapDay, '03:15', dst)];
      const from = at(gapDay, '01:40', std);
      expect(fires('cron(0/15 * * * ? *)', from, 3, opts)).toEqual(expected);
      expect(fires('*/15 * * * *', from, 3, opts)).toEqual(expected);
      expect(
        fires('rate(15 minutes)', from, 3, { ...opts, start: new Date(at(gapDay, '00:00', std)) }),
      ).toEqual(expected);
    });

    it('rate(1 day) is 24 real hours: 09:00 the day before is 10:00 on the day', () => {
      const start = new Date(at(addDays(gapDay, -1), '09:00', std));
      expect(fires('rate(1 day)', start.toISOString(), 1, { ...opts, start })).toEqual([
        at(gapDay, '10:00', dst),
      ]);
    });
  });

  describe(`fall back on ${overlapDay} (${hh(H)}-${hh(H, 59)} twice)`, () => {
    const before = at(addDays(overlapDay, -1), '12:00', dst);

    it(`daily ${hh(H, 30)}: AWS and Unix fire once, at the first occurrence`, () => {
      const expected = [at(overlapDay, hh(H, 30), dst), at(addDays(overlapDay, 1), hh(H, 30), std)];
      expect(fires(`cron(30 ${H} * * ? *)`, before, 2, opts)).toEqual(expected);
      expect(fires(`30 ${H} * * *`, before, 2, opts)).toEqual(expected);
    });

    it(`at(${hh(H, 30)}) fires at the first occurrence`, () => {
      expect(fires(`at(${overlapDay}T${hh(H, 30)}:00)`, before, 2, opts)).toEqual([
        at(overlapDay, hh(H, 30), dst),
      ]);
    });

    it('hourly: AWS fires the repeated hour once, Unix on both passes', () => {
      const from = at(overlapDay, hh(H - 1, 30), dst);
      expect(fires('cron(0 * * * ? *)', from, 3, opts)).toEqual([
        at(overlapDay, hh(H), dst),
        at(overlapDay, hh(H + 1), std),
        at(overlapDay, hh(H + 2), std),
      ]);
      expect(fires('0 * * * *', from, 3, opts)).toEqual([
        at(overlapDay, hh(H), dst),
        at(overlapDay, hh(H), std),
        at(overlapDay, hh(H + 1), std),
      ]);
    });

    it('every 15 minutes: AWS fires only the first pass, Unix both', () => {
      const from = at(overlapDay, hh(H - 1, 50), dst);
      const firstPass = [0, 15, 30, 45].map((m) => at(overlapDay, hh(H, m), dst));
      const secondPass = [0, 15, 30, 45].map((m) => at(overlapDay, hh(H, m), std));
      expect(fires('cron(0/15 * * * ? *)', from, 6, opts)).toEqual([
        ...firstPass,
        at(overlapDay, hh(H + 1), std),
        at(overlapDay, hh(H + 1, 15), std),
      ]);
      expect(fires('*/15 * * * *', from, 9, opts)).toEqual([
        ...firstPass,
        ...secondPass,
        at(overlapDay, hh(H + 1), std),
      ]);
      const start = new Date(at(overlapDay, '00:00', dst));
      expect(fires('rate(15 minutes)', from, 8, { ...opts, start })).toEqual([...firstPass, ...secondPass]);
    });

    it('rate(1 day) is 24 real hours: 09:00 the day before is 08:00 on the day', () => {
      const start = new Date(at(addDays(overlapDay, -1), '09:00', dst));
      expect(fires('rate(1 day)', start.toISOString(), 1, { ...opts, start })).toEqual([
        at(overlapDay, '08:00', std),
      ]);
    });
  });
});

describe('America/New_York: Unix interval jobs inside one hour', () => {
  const opts = { timezone: 'America/New_York' };

  it('a range in the hour field runs the repeated hour twice', () => {
    expect(fires('30 1-2 * * *', local('2026-11-01 00:00 -04:00'), 3, opts)).toEqual([
      local('2026-11-01 01:30 -04:00'),
      local('2026-11-01 01:30 -05:00'),
      local('2026-11-01 02:30 -05:00'),
    ]);
  });

  it('a list in the minute field is an interval job: its gap times do not occur', () => {
    expect(fires('0,30 2 * * *', local('2026-03-07 12:00 -05:00'), 3, opts)).toEqual([
      local('2026-03-09 02:00 -04:00'),
      local('2026-03-09 02:30 -04:00'),
      local('2026-03-10 02:00 -04:00'),
    ]);
  });

  it('six-field fixed times fire once at the first occurrence and at the end of a gap', () => {
    expect(fires('15 30 1 * * *', local('2026-10-31 12:00 -04:00'), 2, opts)).toEqual([
      local('2026-11-01 01:30:15 -04:00'),
      local('2026-11-02 01:30:15 -05:00'),
    ]);
    expect(fires('15 30 2 * * *', local('2026-03-07 12:00 -05:00'), 2, opts)).toEqual([
      local('2026-03-08 03:00 -04:00'),
      local('2026-03-09 02:30:15 -04:00'),
    ]);
  });
});

describe('Asia/Kolkata: +05:30 all year, no DST', () => {
  const opts = { timezone: 'Asia/Kolkata' };

  it('daily 02:30 is 21:00 UTC the day before, on every day including others’ DST days', () => {
    expect(fires('cron(30 2 * * ? *)', '2026-03-07T12:00:00Z', 2, opts)).toEqual([
      '2026-03-07T21:00:00.000Z',
      '2026-03-08T21:00:00.000Z',
    ]);
    expect(fires('30 1 * * *', '2026-10-31T12:00:00Z', 2, opts)).toEqual([
      '2026-10-31T20:00:00.000Z',
      '2026-11-01T20:00:00.000Z',
    ]);
  });

  it('hourly falls on the half hour in UTC', () => {
    expect(fires('0 * * * *', '2026-03-08T06:40:00Z', 3, opts)).toEqual([
      '2026-03-08T07:30:00.000Z',
      '2026-03-08T08:30:00.000Z',
      '2026-03-08T09:30:00.000Z',
    ]);
  });

  it('every 15 minutes and rate() run on unchanged', () => {
    expect(fires('cron(0/15 * * * ? *)', '2026-11-01T05:50:00Z', 3, opts)).toEqual([
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T06:15:00.000Z',
      '2026-11-01T06:30:00.000Z',
    ]);
    expect(fires('at(2026-11-01T01:30:00)', '2026-01-01T00:00:00Z', 1, opts)).toEqual([
      '2026-10-31T20:00:00.000Z',
    ]);
  });
});

describe('Australia/Lord_Howe: a 30-minute DST shift', () => {
  const opts = { timezone: 'Australia/Lord_Howe' };

  it('fall back on 2026-04-05 (02:00 +11:00 → 01:30 +10:30): 01:30-01:59 occur twice', () => {
    const from = local('2026-04-05 01:20 +11:00');
    expect(fires('*/15 * * * *', from, 5, opts)).toEqual([
      local('2026-04-05 01:30 +11:00'),
      local('2026-04-05 01:45 +11:00'),
      local('2026-04-05 01:30 +10:30'),
      local('2026-04-05 01:45 +10:30'),
      local('2026-04-05 02:00 +10:30'),
    ]);
    expect(fires('cron(0/15 * * * ? *)', from, 4, opts)).toEqual([
      local('2026-04-05 01:30 +11:00'),
      local('2026-04-05 01:45 +11:00'),
      local('2026-04-05 02:00 +10:30'),
      local('2026-04-05 02:15 +10:30'),
    ]);
  });

  it('spring forward on 2026-10-04 (02:00 +10:30 → 02:30 +11:00): 02:00-02:29 do not exist', () => {
    const before = local('2026-10-03 12:00 +10:30');
    expect(fires('15 2 * * *', before, 2, opts)).toEqual([
      local('2026-10-04 02:30 +11:00'),
      local('2026-10-05 02:15 +11:00'),
    ]);
    expect(fires('cron(15 2 * * ? *)', before, 1, opts)).toEqual([local('2026-10-05 02:15 +11:00')]);
    expect(fires('*/15 * * * *', local('2026-10-04 01:50 +10:30'), 2, opts)).toEqual([
      local('2026-10-04 02:30 +11:00'),
      local('2026-10-04 02:45 +11:00'),
    ]);
  });
});

describe('America/New_York: starting inside an overlap', () => {
  const opts = { timezone: 'America/New_York' };

  it('from inside the first pass, an every-second job continues the first pass, then repeats the hour', () => {
    const times = fires('* * * * * *', local('2026-11-01 01:59:58 -04:00'), 4, opts);
    expect(times).toEqual([
      local('2026-11-01 01:59:59 -04:00'),
      local('2026-11-01 01:00:00 -05:00'),
      local('2026-11-01 01:00:01 -05:00'),
      local('2026-11-01 01:00:02 -05:00'),
    ]);
  });

  it('from inside the second pass, Unix continues the second pass and AWS waits for 02:00', () => {
    const from = local('2026-11-01 01:20:00 -05:00');
    expect(fires('*/15 * * * *', from, 3, opts)).toEqual([
      local('2026-11-01 01:30 -05:00'),
      local('2026-11-01 01:45 -05:00'),
      local('2026-11-01 02:00 -05:00'),
    ]);
    expect(fires('cron(0/15 * * * ? *)', from, 2, opts)).toEqual([
      local('2026-11-01 02:00 -05:00'),
      local('2026-11-01 02:15 -05:00'),
    ]);
  });

  it('a daily Unix interval time in the overlap fires on the second pass when the first is past', () => {
    // 30 1-2: an hour range, so an interval job; 01:30 EDT has passed, 01:30 EST has not.
    expect(fires('30 1-2 * * *', local('2026-11-01 01:45 -04:00'), 2, opts)).toEqual([
      local('2026-11-01 01:30 -05:00'),
      local('2026-11-01 02:30 -05:00'),
    ]);
  });

  it('a gap that ends exactly after `after` still fires at its end', () => {
    expect(fires('30 2 * * *', local('2026-03-08 01:59:59 -05:00'), 1, opts)).toEqual([
      local('2026-03-08 03:00 -04:00'),
    ]);
  });
});
