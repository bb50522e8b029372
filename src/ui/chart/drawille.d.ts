/** Types for drawille-canvas-blessed-contrib (blessed-contrib's braille canvas), which ships none. */
declare module 'drawille-canvas-blessed-contrib' {
  interface BrailleCanvas {
    width: number;
    height: number;
    /** One byte per character cell: the braille dot mask (U+2800 + mask). */
    content: Uint8Array;
    set(x: number, y: number): void;
    unset(x: number, y: number): void;
    frame(delimiter?: string): string;
  }
  class Context {
    constructor(width: number, height: number);
    _canvas: BrailleCanvas;
    canvas: BrailleCanvas;
    strokeStyle: unknown;
    beginPath(): void;
    moveTo(x: number, y: number): void;
    lineTo(x: number, y: number): void;
    stroke(): void;
  }
  export default Context;
}
