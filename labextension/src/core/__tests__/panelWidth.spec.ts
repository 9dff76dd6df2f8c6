import { openingWidth, rightHandlePosition } from '../panelWidth';

describe('the panel opening width', () => {
  it('is 400 px at 1280 and 480 px at 1920, in proportion between', () => {
    expect(openingWidth(1280)).toBe(400);
    expect(openingWidth(1920)).toBe(480);
    expect(openingWidth(1600)).toBe(440);
  });

  it('stays within 320 px, 600 px and 40 % of a small window', () => {
    expect(openingWidth(1024)).toBe(368);
    expect(openingWidth(3840)).toBe(600);
    expect(openingWidth(700)).toBe(280);
  });
});

describe('the side area handle', () => {
  it('leaves the area the width asked', () => {
    expect(rightHandlePosition(1232, 400, 1, 300)).toBe(831);
  });

  it('leaves the areas on its left their minimum', () => {
    expect(rightHandlePosition(700, 480, 1, 300)).toBe(300);
  });
});
