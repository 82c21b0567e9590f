// usageQueries: the predefined usage queries a plan can name.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');

const { usageQueries } = require('..');

test('the predefined usage queries, the default among them', () => {
  const queries = usageQueries();
  assert.ok(Array.isArray(queries) && queries.length > 0);
  for (const query of queries) {
    assert.deepEqual(Object.keys(query).sort(), ['default', 'description', 'dialects', 'name']);
    assert.equal(typeof query.name, 'string');
    assert.equal(typeof query.description, 'string');
    assert.ok(query.dialects.length > 0);
  }
  const defaults = queries.filter((q) => q.default).map((q) => q.name);
  assert.deepEqual(defaults, ['shipments_by_weekday']);
  assert.ok(queries.find((q) => q.name === 'shipments_by_weekday').dialects.includes('sqlite'));
});
