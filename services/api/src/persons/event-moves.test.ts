import { describe, expect, it } from 'vitest';
import { DEFAULT_PRIORITY } from '@cdp/identity';
import { eventMoveRule, eventMoveSql } from './event-moves.js';

const id = (type: string, value: string): { type: string; value: string } => ({ type, value });

describe('eventMoveRule', () => {
  it('orders the event columns by priority and keeps only those the person held', () => {
    const rule = eventMoveRule(
      [id('anonymous_id', 'a1'), id('user_id', 'u1'), id('email', 'h'), id('anonymous_id', 'a2')],
      [id('anonymous_id', 'a2')],
      DEFAULT_PRIORITY,
    );
    expect(rule.columns).toEqual([
      { type: 'user_id', held: ['u1'], moved: [] },
      { type: 'anonymous_id', held: ['a1', 'a2'], moved: ['a2'] },
    ]);
  });

  it('counts moved identifiers as held even when the warehouse had not seen them yet', () => {
    expect(eventMoveRule([], [id('device_id', 'd1')], DEFAULT_PRIORITY).columns).toEqual([
      { type: 'device_id', held: ['d1'], moved: ['d1'] },
    ]);
  });

  it('follows a custom priority', () => {
    const rule = eventMoveRule(
      [id('user_id', 'u1'), id('anonymous_id', 'a1')],
      [id('user_id', 'u1')],
      ['anonymous_id', 'user_id', 'external:*', 'email', 'phone', 'device_id'],
    );
    expect(rule.columns.map((c) => c.type)).toEqual(['anonymous_id', 'user_id']);
  });
});

describe('eventMoveSql', () => {
  it('decides by the most trusted identifier the person held: a login event with the user id stays', () => {
    const rule = eventMoveRule(
      [id('user_id', 'u1'), id('anonymous_id', 'a1'), id('anonymous_id', 'a2')],
      [id('anonymous_id', 'a2')],
      DEFAULT_PRIORITY,
    );
    expect(eventMoveSql(rule)).toEqual({
      sql:
        'multiIf(user_id IN {held_user_id:Array(String)}, user_id IN {moved_user_id:Array(String)}, ' +
        'anonymous_id IN {held_anonymous_id:Array(String)}, anonymous_id IN {moved_anonymous_id:Array(String)}, 0)',
      params: {
        held_user_id: ['u1'],
        moved_user_id: [],
        held_anonymous_id: ['a1', 'a2'],
        moved_anonymous_id: ['a2'],
      },
    });
  });

  it('stops at the last column with moved values; device ids come from the context', () => {
    const rule = eventMoveRule(
      [id('device_id', 'd1'), id('anonymous_id', 'a1'), id('user_id', 'u1')],
      [id('device_id', 'd1')],
      DEFAULT_PRIORITY,
    );
    const s = eventMoveSql(rule);
    expect(s?.sql).toContain("JSONExtractString(context, 'device', 'id') IN {moved_device_id");
    expect(s?.sql).not.toContain('anonymous_id');
    expect(Object.keys(s?.params ?? {})).toEqual([
      'held_user_id',
      'moved_user_id',
      'held_device_id',
      'moved_device_id',
    ]);
  });

  it.each([
    { name: 'only an email moved', moved: [id('email', 'h')] },
    { name: 'only an external id moved', moved: [id('external:crm', 'c1')] },
    { name: 'nothing moved', moved: [] },
  ])('moves no event when $name', ({ moved }) => {
    const rule = eventMoveRule([id('user_id', 'u1'), id('email', 'h')], moved, DEFAULT_PRIORITY);
    expect(eventMoveSql(rule)).toBeUndefined();
  });
});
