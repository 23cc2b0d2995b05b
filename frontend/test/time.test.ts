import { describe, expect, it } from "vitest";
import { formatCountdown, formatDateTime, formatDuration, formatTime, formatUptime, isValidLocale, isValidTimeZone } from "../src/time";

const T = "2026-01-15T12:34:56Z";

describe("time formatting", () => {
  it("uses the chosen time zone", () => {
    expect(formatTime(T, { timezone: "UTC", locale: "en-GB" })).toBe("12:34:56");
    expect(formatTime(T, { timezone: "Asia/Tokyo", locale: "en-GB" })).toBe("21:34:56");
    expect(formatTime(T, { timezone: "America/New_York", locale: "en-GB" })).toBe("07:34:56");
  });

  it("uses the chosen locale and shows the zone", () => {
    const us = formatDateTime(T, { timezone: "America/Chicago", locale: "en-US" });
    expect(us).toContain("01/15/2026");
    expect(us).toMatch(/CST/);
    const de = formatDateTime(T, { timezone: "Europe/Berlin", locale: "de-DE" });
    expect(de).toContain("15.01.2026");
    expect(de).toContain("13:34:56");
  });

  it("shows a dash for missing or invalid times", () => {
    expect(formatTime(null)).toBe("—");
    expect(formatDateTime("not a date")).toBe("—");
  });

  it("formats durations, countdowns and uptimes", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(12_345)).toBe("12.3 s");
    expect(formatDuration(245_000)).toBe("4m 05s");
    expect(formatDuration(7_380_000)).toBe("2h 03m");
    expect(formatDuration(null)).toBe("—");
    expect(formatCountdown(3725)).toBe("01:02:05");
    expect(formatCountdown(-5)).toBe("00:00:00");
    expect(formatUptime(90061)).toBe("1d 1h");
    expect(formatUptime(3720)).toBe("1h 2m");
  });

  it("validates zones and locales", () => {
    expect(isValidTimeZone("Europe/Berlin")).toBe(true);
    expect(isValidTimeZone("Mars/Olympus")).toBe(false);
    expect(isValidTimeZone("")).toBe(true);
    expect(isValidLocale("en-GB")).toBe(true);
    expect(isValidLocale("not a locale!!")).toBe(false);
  });
});
