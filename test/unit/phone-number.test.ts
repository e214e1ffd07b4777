import { describe, expect, it } from 'vitest';
import { normalisePhone, PHONE_REFUSAL } from '../../src/domain/phones/phone-number.js';
import { maskPhone } from '../../src/views-helpers.js';

describe('normalisePhone', () => {
  it.each([
    ['0912345678', '0912345678'],
    ['0912-345-678', '0912345678'],
    ['0912 345 678', '0912345678'],
    ['  0912-345678  ', '0912345678'],
    ['(0912) 345-678', '0912345678'],
    ['0912.345.678', '0912345678'],
    ['+886912345678', '0912345678'],
    ['+886-912-345-678', '0912345678'],
    ['+886 912 345 678', '0912345678'],
    ['886912345678', '0912345678'],
    ['+886 0912 345 678', '0912345678'],
    ['０９１２３４５６７８', '0912345678'],
    ['０９１２－３４５－６７８', '0912345678'],
    ['＋８８６９１２３４５６７８', '0912345678'],
    ['0987654321', '0987654321'],
  ])('accepts %s', (input, expected) => {
    expect(normalisePhone(input)).toEqual({ ok: true, number: expected });
  });

  it.each([
    ['02-2720-8889'], // a landline
    ['091234567'], // too short
    ['09123456789'], // too long
    ['0812345678'], // not 09
    ['+1 912 345 678'], // another country
    ['+85291234567'],
    ['912345678'], // missing the 0
    ['0912-345-67a'],
    ['0912345678; drop table phones'],
    ['09１2３45６78x'],
    ['++886912345678'],
    ['0912\u0000345678'],
    ['1'.repeat(100)],
  ])('refuses %s with an example of a valid number', (input) => {
    const r = normalisePhone(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toBe(PHONE_REFUSAL);
      expect(r.message).toContain('0912-345-678');
    }
  });

  it('refuses empty and non-string input', () => {
    expect(normalisePhone('')).toEqual({ ok: false, message: '請輸入手機號碼，例如 0912-345-678' });
    expect(normalisePhone('   ')).toMatchObject({ ok: false });
    expect(normalisePhone(['0912345678'])).toMatchObject({ ok: false });
    expect(normalisePhone(undefined)).toMatchObject({ ok: false });
  });

  it('masks for staff', () => {
    expect(maskPhone('0912345678')).toBe('0912-***-678');
  });
});
