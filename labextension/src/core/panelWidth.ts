/**
 * How wide the panel opens the first time (the right side bar's width), from the window's
 * width: 400 px at 1280, 480 px at 1920, in between in proportion, never under 320 px nor
 * over 40 % of the window. After that first opening the width is the user's (JupyterLab
 * keeps it with the layout). Pure.
 */

const AT_1280 = 400;
const PX_PER_PX = (480 - AT_1280) / (1920 - 1280);
const MIN_WIDTH = 320;
const MAX_SHARE = 0.4;
const MAX_WIDTH = 600;

/** The panel's opening width in CSS pixels for a window `windowWidth` pixels wide. */
export function openingWidth(windowWidth: number): number {
  const proportional = AT_1280 + (windowWidth - 1280) * PX_PER_PX;
  const capped = Math.min(proportional, MAX_WIDTH, windowWidth * MAX_SHARE);
  return Math.round(Math.max(Math.min(MIN_WIDTH, windowWidth * MAX_SHARE), capped));
}

/**
 * Where the handle left of a right-hand side area goes so that the area is `width` px wide
 * in a split panel `splitWidth` px wide (`spacing` px per handle), the areas left of it
 * keeping at least `minLeft` px in all.
 */
export function rightHandlePosition(
  splitWidth: number,
  width: number,
  spacing: number,
  minLeft: number
): number {
  return Math.max(minLeft, Math.round(splitWidth - width - spacing));
}
