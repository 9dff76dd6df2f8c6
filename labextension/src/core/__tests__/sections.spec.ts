/**
 * The registry of the sections other plugins add to the panel (IMlopsPanel.addSection):
 * rank order, checks, removal.
 */
import { DEFAULT_SECTION_RANK, ISectionSpec, SectionRegistry, sectionProblem } from '../sections';

function section(id: string, rank?: number, title = id.toUpperCase()): ISectionSpec {
  return { id, title, rank, render: () => null };
}

function ids(registry: SectionRegistry<ISectionSpec>): string[] {
  return registry.sections.map(s => s.id);
}

describe('SectionRegistry', () => {
  it('keeps sections in rank order, equal ranks in the order added', () => {
    const registry = new SectionRegistry<ISectionSpec>();
    registry.add(section('monitoring', 200));
    registry.add(section('deployments', 100));
    registry.add(section('notes')); // default rank
    registry.add(section('alerts', 200));
    registry.add(section('first', -1));
    expect(DEFAULT_SECTION_RANK).toBeGreaterThan(200);
    expect(ids(registry)).toEqual(['first', 'deployments', 'monitoring', 'alerts', 'notes']);
  });

  it('signals the new list after every add and removal', () => {
    const registry = new SectionRegistry<ISectionSpec>();
    const seen: string[][] = [];
    registry.changed.connect((_, sections) => seen.push(sections.map(s => s.id)));
    const b = registry.add(section('b', 2));
    registry.add(section('a', 1));
    b.dispose();
    expect(seen).toEqual([['b'], ['a', 'b'], ['a']]);
  });

  it('removes a section when its handle is disposed, once', () => {
    const registry = new SectionRegistry<ISectionSpec>();
    let changes = 0;
    registry.changed.connect(() => changes++);
    const handle = registry.add(section('deployments'));
    registry.add(section('monitoring'));
    expect(handle.isDisposed).toBe(false);
    handle.dispose();
    expect(handle.isDisposed).toBe(true);
    expect(registry.has('deployments')).toBe(false);
    expect(ids(registry)).toEqual(['monitoring']);
    handle.dispose();
    expect(changes).toBe(3);
    // The id is free again.
    registry.add(section('deployments', 1));
    expect(ids(registry)).toEqual(['deployments', 'monitoring']);
  });

  it('a stale handle does not remove the section that reused its id', () => {
    const registry = new SectionRegistry<ISectionSpec>();
    const old = registry.add(section('deployments'));
    registry.clear();
    registry.add(section('deployments'));
    old.dispose();
    expect(ids(registry)).toEqual(['deployments']);
  });

  it('refuses a second section with the same id, and leaves the first one', () => {
    const registry = new SectionRegistry<ISectionSpec>();
    const first = section('deployments', 1, 'Deployments');
    registry.add(first);
    expect(() => registry.add(section('deployments', 2))).toThrow(
      'a section with id "deployments" is already in the panel'
    );
    expect(registry.sections).toEqual([first]);
  });

  it('refuses malformed sections without changing the list', () => {
    const registry = new SectionRegistry<ISectionSpec>();
    let changes = 0;
    registry.changed.connect(() => changes++);
    expect(() => registry.add({ id: '', title: 'T', render: () => null })).toThrow(/not a name/);
    expect(() => registry.add({ id: 'x', title: ' ', render: () => null })).toThrow(/no title/);
    expect(() => registry.add({ id: 'x', title: 'X', rank: NaN, render: () => null })).toThrow(
      /finite/
    );
    expect(() => registry.add({ id: 'x', title: 'X' })).toThrow(/exactly one of render or widget/);
    expect(changes).toBe(0);
    expect(registry.sections).toEqual([]);
  });
});

describe('sectionProblem', () => {
  it('accepts a render or a widget section', () => {
    expect(sectionProblem({ id: 'deployments', title: 'Deployments', render: () => 1 }, [])).toBe(
      null
    );
    expect(sectionProblem({ id: 'jupyter-x:mon.1', title: 'M', widget: {} }, ['other'])).toBe(null);
  });

  it('names what is wrong', () => {
    const render = () => null;
    expect(sectionProblem({ id: '1abc', title: 'T', render }, [])).toMatch(/not a name/);
    expect(sectionProblem({ id: 'a b', title: 'T', render }, [])).toMatch(/not a name/);
    expect(sectionProblem({ id: 'a', title: 'T', render }, ['a'])).toMatch(/already/);
    expect(sectionProblem({ id: 'a', title: 'T', rank: Infinity, render }, [])).toMatch(/finite/);
    expect(sectionProblem({ id: 'a', title: 'T', render, widget: {} }, [])).toMatch(/exactly one/);
    expect(sectionProblem({ id: 'a', title: 'T', render: 'text' }, [])).toMatch(/not a function/);
  });
});
