import { embeddingsContract } from "./embeddings.contract.js";
import { HashEmbeddings } from "./hash-embeddings.js";

embeddingsContract("hash (default, no weights)", async () => ({ embeddings: new HashEmbeddings({ dimensions: 128 }), dispose: async () => undefined }));
