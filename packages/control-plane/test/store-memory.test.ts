/** The store contract against the in-memory backend. */
import { MemoryStore } from '../src/store/index.js';
import { storeContract } from './store-contract.js';

storeContract('memory', async (options) => new MemoryStore(options));
