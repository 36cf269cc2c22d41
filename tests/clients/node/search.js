'use strict';
// Pages through the Events API with SparkPost's official Node.js client pointed at event-data,
// the way a SparkPost user would: searchMessage with per_page, then the cursor of links.next.
// Prints {"pages": N, "total_counts": [...], "results": [...]} as JSON on stdout.
const SparkPost = require('sparkpost');

const [origin, from, to, perPage] = process.argv.slice(2);
const client = new SparkPost(process.env.SPARKPOST_API_KEY, { origin });

async function main() {
  const params = { from, to, per_page: Number(perPage) };
  const results = [];
  const totalCounts = [];
  let pages = 0;
  for (;;) {
    const page = await client.events.searchMessage(params);
    pages += 1;
    results.push(...page.results);
    totalCounts.push(page.total_count);
    if (!page.links || !page.links.next) break;
    if (pages > 100) throw new Error('paging did not end');
    params.cursor = new URL(page.links.next, origin).searchParams.get('cursor');
  }
  process.stdout.write(JSON.stringify({ pages, total_counts: totalCounts, results }));
}

main().catch((err) => {
  process.stderr.write(`${err.name}: ${err.message} ${JSON.stringify(err.errors || null)}\n`);
  process.exit(1);
});
