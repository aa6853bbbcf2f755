import { describe, expect, it } from "vitest";
import { clampPosition, fileFrames, nearby, placesAt } from "../src/navigation";
import { Signal } from "../src/signal";

describe("navigation", () => {
  it("walks a file's frames in order", () => {
    const seq = fileFrames(3, 4);
    expect(seq.length).toBe(4);
    expect(seq.at(0)).toEqual({ file: 3, frame: 0 });
    expect(seq.at(3)).toEqual({ file: 3, frame: 3 });
  });

  it("treats a file without a frame count as one frame", () => {
    expect(fileFrames(0, 0).length).toBe(1);
  });

  it("keeps positions inside the sequence", () => {
    const seq = fileFrames(0, 12);
    expect(clampPosition(seq, -1)).toBe(0);
    expect(clampPosition(seq, 5)).toBe(5);
    expect(clampPosition(seq, 12)).toBe(11);
  });

  it("loads the next two places, then the previous one", () => {
    const seq = fileFrames(1, 10);
    expect(nearby(seq, 4)).toEqual([
      { file: 1, frame: 5 },
      { file: 1, frame: 6 },
      { file: 1, frame: 3 },
    ]);
    expect(nearby(seq, 9)).toEqual([{ file: 1, frame: 8 }]);
    expect(nearby(fileFrames(1, 1), 0)).toEqual([]);
  });

  it("maps positions to places, leaving out those outside", () => {
    expect(placesAt(fileFrames(2, 3), [2, 0, 3, -1])).toEqual([
      { file: 2, frame: 2 },
      { file: 2, frame: 0 },
    ]);
  });
});

describe("signal", () => {
  it("calls every subscriber until it unsubscribes", () => {
    const s = new Signal<number>();
    const a: number[] = [];
    const b: number[] = [];
    const stopA = s.subscribe((v) => a.push(v));
    s.subscribe((v) => b.push(v));
    s.emit(1);
    stopA();
    s.emit(2);
    expect(a).toEqual([1]);
    expect(b).toEqual([1, 2]);
  });

  it("lets a subscriber unsubscribe another while it is being called", () => {
    const s = new Signal();
    const seen: string[] = [];
    let stopB = () => {};
    s.subscribe(() => {
      seen.push("a");
      stopB();
    });
    stopB = s.subscribe(() => seen.push("b"));
    s.emit();
    s.emit();
    expect(seen).toEqual(["a", "b", "a"]);
  });
});
