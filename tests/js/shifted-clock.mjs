// Loaded with `node --import` before a script: moves the script's Date by
// STAPPEN_CLOCK_OFFSET_MS milliseconds, so that a holder written elsewhere
// runs on the same clock as an API under test whose clock a test has moved.
const variable = "STAPPEN_CLOCK_OFFSET_MS";
const offset = Number(process.env[variable] ?? "0");
if (!Number.isFinite(offset)) {
  throw new Error(`${variable}=${process.env[variable]} is not a number of milliseconds`);
}

const SystemDate = Date;

class ShiftedDate extends SystemDate {
  constructor(...values) {
    if (values.length === 0) {
      super(SystemDate.now() + offset);
    } else {
      super(...values);
    }
  }

  static now() {
    return SystemDate.now() + offset;
  }
}

globalThis.Date = ShiftedDate;
