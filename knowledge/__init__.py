"""Policy knowledge base: documents, chunking, hybrid retrieval and answer extraction."""
