// Drives the API with the official openai Node SDK, as an app would: create a thread, add messages, read them
// back with the SDK's auto-pagination both ways, update, retrieve and delete. Prints one JSON line of what
// it saw. Usage: node flow.mjs <base URL ending in /v1> <API key> <number of messages>
import OpenAI from "openai";

const [baseURL, apiKey, countText] = process.argv.slice(2);
const count = Number(countText);
const client = new OpenAI({ baseURL, apiKey }); // the SDK's default retries

const thread = await client.beta.threads.create({ metadata: { client: "node" } });
const created = [];
for (let n = 0; n < count; n += 1) {
  const message = await client.beta.threads.messages.create(thread.id, { role: "user", content: `message ${n}` });
  created.push(message.id);
}

const ascending = [];
for await (const message of client.beta.threads.messages.list(thread.id, { order: "asc", limit: 7 })) {
  ascending.push(message.id);
}
const descending = [];
for await (const message of client.beta.threads.messages.list(thread.id, { limit: 10 })) {
  descending.push(message.id);
}

const updated = await client.beta.threads.messages.update(created[0], {
  thread_id: thread.id,
  metadata: { seen: "yes" },
});
const retrieved = await client.beta.threads.messages.retrieve(created[0], { thread_id: thread.id });
const deleted = await client.beta.threads.messages.delete(created[1], { thread_id: thread.id });
let missing = null;
try {
  await client.beta.threads.messages.retrieve(created[1], { thread_id: thread.id });
} catch (error) {
  missing = { status: error.status, error: error.error };
}
const threadDeleted = await client.beta.threads.delete(thread.id);

console.log(
  JSON.stringify({ thread, created, ascending, descending, updated, retrieved, deleted, missing, threadDeleted }),
);
