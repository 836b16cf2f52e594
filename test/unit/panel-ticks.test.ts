// Tick labels of the Live Training panel's axes (issue 10, item 5): one number of decimals per
// axis, as many as the spacing needs. Expected labels written by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decimalsFor, groupedNumber, readoutValue, tickLabels } from '../../webview/training/tickFormat';

test('whole ticks have no decimals; fractional spacing gets exactly the decimals it needs', () => {
  assert.deepEqual(tickLabels([0, 25, 50, 75, 100], 25, 'number'), ['0', '25', '50', '75', '100']);
  assert.deepEqual(tickLabels([0, 2500, 5000], 2500, 'number'), ['0', '2,500', '5,000']);
  assert.deepEqual(tickLabels([0.5, 0.75, 1], 0.25, 'number'), ['0.50', '0.75', '1.00']);
  assert.deepEqual(tickLabels([7.425, 7.43, 7.435], 0.005, 'number'), ['7.425', '7.430', '7.435']);
  assert.deepEqual(tickLabels([0.0005, 0.001], 0.0005, 'number'), ['0.0005', '0.0010']);
  assert.equal(decimalsFor(1), 0);
  assert.equal(decimalsFor(0.2), 1);
  assert.equal(decimalsFor(0.25), 2);
});

test('step labels of the x axis: en-US digit groups, any decimals asked for (one formatter reused)', () => {
  assert.equal(groupedNumber(1_000_000), '1,000,000');
  assert.equal(groupedNumber(999), '999');
  assert.equal(groupedNumber(-12_345), '-12,345');
  assert.equal(groupedNumber(1234.5, 2), '1,234.50');
  assert.equal(groupedNumber(1234.5), '1,235');
  assert.equal(groupedNumber(0.125, 2), '0.13');
});

test('accuracies as percentages, log axes as powers of ten', () => {
  assert.deepEqual(tickLabels([0, 0.25, 0.5, 0.75, 1], 0.25, 'percent'), ['0%', '25%', '50%', '75%', '100%']);
  assert.deepEqual(tickLabels([0.9, 0.925, 0.95], 0.025, 'percent'), ['90.0%', '92.5%', '95.0%']);
  assert.deepEqual(tickLabels([0.0001, 0.001, 0.01, 0.1, 1, 10], 0, 'log'), ['1e-4', '0.001', '0.01', '0.1', '1', '10']);
  assert.deepEqual(tickLabels([200000, 300000], 100000, 'number'), ['2e5', '3e5']);
});

test('readout values', () => {
  assert.equal(readoutValue(0.000123, 'number'), '1.23e-4');
  assert.equal(readoutValue(2.345678, 'number'), '2.346');
  assert.equal(readoutValue(0.4567, 'percent'), '45.7%');
  assert.equal(readoutValue(NaN, 'number'), '–');
});
