"""The reply inbox (docs/reply-inbox.md): fetching (IMAP polls, ESP inbound webhooks), matching,
categories' actions, and what operators do with replies. Import from the modules themselves."""
