"""Every text the bot shows users, defined once, as plain text.

Texts are plain (no HTML): `bot.render` escapes them and fills their `{fields}`. Button labels
are here too; what a button carries is `bot.callbacks`'s job.
"""

from __future__ import annotations

from index.text.names import CAVEAT

# -- questions ---------------------------------------------------------------------------------

NOTHING_FOUND = (
    "I couldn't find that in the indexed news. Try other words, or see /sources for what I "
    "have read."
)
NOTHING_MENTIONS = (
    "I couldn't find that: the closest articles I have never mention {names}. See /sources for "
    "what I have read."
)
NO_INDEX = "No news is indexed yet; an admin can run /reindex."
SLOW_DOWN = "You're sending questions faster than I can read them. Please wait a few seconds."
ASK_USAGE = "Usage: /ask <question>, e.g. /ask who won the election?"
MENTION_WITHOUT_QUESTION = "Yes? Ask me a question about the news."
# Above the closest passages of a question whose names no article mentions: the library's text
# (`index.text.names.CAVEAT`), the terminal's too.
MISSING_NAMES_NOTE = CAVEAT
CLOSEST_NOTE = "Weak matches: they share only some of your words and may not answer the question."
PERIOD_NOTE = "Only articles dated {period}."
HEADLINES_NOTE = "The newest articles dated {period}."
ELSEWHERE_NOTE = "Nothing dated {period} answers this; these passages are from other dates."
NOTHING_IN_PERIOD = (
    "I couldn't find that in the news dated {period}. Try a longer time, or ask without one."
)
UNTITLED = "Untitled"

# -- welcome -----------------------------------------------------------------------------------

GREETING = "Hi {name}! "
GREETING_STRANGER = "there"
START = (
    "Ask me about the news in plain words, say {example}, and I'll reply with the best "
    "passages from {articles}, with their sources.\n\n{newest}See /help for more."
)
START_EXAMPLE = "How much was trade between China and Russia?"
NEWEST_HEADLINES = "Newest headlines, to ask about:"
HELP = (
    "I answer questions about the news with the best-matching passages from the articles I "
    "have indexed, each with its source.\n\n"
    "Just send me a question in plain words. In groups, use /ask <question>, mention me, "
    "or reply to one of my messages. In any chat, type @{username} and a question. Name a "
    'time to hear only of it: "what happened yesterday?", "storms this week".\n\n'
    "/start: a greeting and example questions\n"
    "/help: this message\n"
    "/sources: what I have indexed\n"
    "/latest [topic]: the newest headlines, on a topic or of a time if you name one\n"
    "/ask <question>: ask in a group"
)
FRESHNESS = "🕒 Newest article: {newest}. Last refresh: {refreshed}."
FRESHNESS_UNDATED = "undated"
FRESHNESS_NEVER = "not yet"

# -- /latest ---------------------------------------------------------------------------------

LATEST_HEADER = "🗞 Newest headlines"
LATEST_TOPIC_HEADER = "🗞 Newest on {topic}"
LATEST_NOTHING = "No indexed article matches {topic}. Try other words, or /latest alone."

# -- browsing: pages of answers and of sources -------------------------------------------------

CLOSEST_BUTTON = "Show the closest passages ›"
MORE_BUTTON = "More ›"
BACK_BUTTON = "‹ Back"
NEWER_BUTTON = "‹ Newer"
OLDER_BUTTON = "Older ›"
SEARCH_EXPIRED = "This search has expired. Please ask again."
SEARCH_REBUILT = "The news index was rebuilt since. Please ask again for fresh answers."
NO_MORE = "No more answers."
SOURCES_HEADER = "📚 {articles}, {sentences} (indexed {created})"
SOURCES_REBUILT = "The index was rebuilt since. Send /sources again."
SOURCES_EXPIRED = "This list has expired. Send /sources again."

# -- admin -------------------------------------------------------------------------------------

REINDEX_REFUSED = "Sorry, only the bot's admins can rebuild the index."
ADMIN_PRIVATE_ONLY = "Please ask me in a private chat: admin commands are answered there only."
REINDEX_RUNNING = "A rebuild is already running; I'll report here when it ends."
REINDEX_QUEUED = (
    "⏳ An update of the index is running; your rebuild is queued and starts right after it. "
    "I'll report here when it ends."
)
REINDEX_STARTED = "⏳ Rebuilding the index from {sources}. I keep answering questions meanwhile."
REBUILT = "✅ Index rebuilt: {summary}"
REBUILT_SKIPPED = "• skipped {item}"
REBUILT_MORE_SKIPPED = "…and {count:,} more skipped."
REBUILT_UNCHANGED = "✅ Up to date: {summary}"
REBUILT_FAILED_SOURCE = "⚠️ could not read {source} this time"
REBUILD_FAILED = "❌ Rebuild failed: {reason}"
UPDATE_FAILED = (
    "❌ The scheduled update failed: {reason}. I'll try again when a source changes, or at "
    "/reindex."
)
STILL_SERVING = "Still serving the previous index ({still})."
STILL_SERVING_NOTHING = "nothing"
FEEDS_REFUSED = "Sorry, only the bot's admins can see the sources' health."
FEEDS_OFF = "Scheduled refresh is off (NEWSBOT_REFRESH=off): sources are read only by /reindex."
FEEDS_HEADER = "📡 {count}, checked every {interval}"
FEEDS_PAGE = "({page} of {pages})"
FEED_LAST_SUCCESS = "last success {when}"
FEED_LAST_ERROR = "last error {when}: {error}"
FEED_ARTICLES = "{articles} indexed"
FEED_NEXT_CHECK = "next check {when}"
FEED_NEVER = "never"
FEED_FAILING = (
    "⚠️ The feed {url} has been failing since {since}: {error}. I keep trying, less often."
)
FEED_RECOVERED = "✅ The feed {url} works again (it had been failing since {since})."
FEEDS_RETIRED = (
    "🗄 No longer configured: not read any more, their articles kept until you remove them."
)
FEED_RETIRED = "🗄 {source}: {articles} indexed"

# -- sources managed from the chat (admins, private chats) -------------------------------------

SOURCES_REFUSED = "Sorry, only the bot's admins can change the sources."
ADDFEED_USAGE = "Usage: /addfeed <feed URL>, e.g. /addfeed https://example.org/feed.xml"
ADDFEED_KNOWN = "I already read {url}."
ADDFEED_STARTED = "⏳ Adding {url}: reading it now. I'll report here when it is indexed."
REMOVEFEED_HEADER = "Which source should I remove? Its articles leave the index too."
REMOVEFEED_CONFIGURED = (
    "Set in NEWSBOT_SOURCES, so removed there: {sources}. After a restart without one, it is "
    "offered here."
)
REMOVEFEED_NONE = "No source to remove from here."
REMOVE_BUTTON = "🗑 {source}"
REMOVE_CONFIRM = "Remove {source} and its {articles} from the index? This cannot be undone."
REMOVE_YES = "Remove it"
REMOVE_NO = "Keep it"
REMOVE_STARTED = "⏳ Removing {source} and its articles. I'll report here when it is done."
REMOVE_KEPT = "Kept {source}."
SOURCE_GONE = "That source is not in my list any more. Send /removefeed again."
ADMIN_BUTTON_REFUSED = "Only the bot's admins can do that, in a private chat."
OPML_UNREADABLE = "I couldn't import that file: {reason}. Send an OPML file of feeds."
OPML_NOTHING_NEW = "All {feeds} in that file are sources already."
OPML_STARTED = (
    "⏳ Importing {feeds} ({known} already sources): reading them now. I'll report here when "
    "they are indexed."
)

# -- errors and other input --------------------------------------------------------------------

NOT_TEXT = "I can only read text. Send me a question in words, like: what happened in Ukraine?"
UNKNOWN_COMMAND = "I don't know that command. See /help."
SORRY = "Sorry, something went wrong on my side while answering. Please try again."

# -- following: standing questions, alerts, digests, /forget ------------------------------------

FOLLOW_USAGE = "Usage: /follow <question>, e.g. /follow copper prices in Chile"
FOLLOWING_NOW = (
    "🔔 Following: {question}\nI'll tell you when new articles answer it. /following lists "
    "what you follow."
)
FOLLOW_LIMIT = "You follow {limit} questions already, the most I keep. /unfollow one first."
FOLLOW_OFF = "Following questions is not available here: this bot keeps no state."
FOLLOWING_HEADER = "🔔 You follow:"
FOLLOWING_NONE = "You follow nothing yet. Try /follow copper prices in Chile"
UNFOLLOW_USAGE = "Usage: /unfollow <number>, the number /following shows."
UNFOLLOWED = "🔕 No longer following: {question}"
UNFOLLOW_BUTTON = "🔕 Stop {number}"
STOP_FOLLOWING_BUTTON = "🔕 Stop following this"
UNFOLLOW_GONE = "You no longer follow that question."
ALERT_HEADER = "🔔 New on {question}"
ALSO_REPORTED = "Also reported by: {outlets}"
HELD_SUMMARY = "🔔 {count} more new articles answered what you follow this hour:"
FORGOTTEN = "🗑 Done: I deleted everything I kept about you (followed questions, digest, time zone)."
DIGEST_USAGE = (
    "Usage: /digest HH:MM for a daily digest at that time (in your /timezone), or /digest off"
)
DIGEST_SET = "🗞 A digest every day at {at} ({zone}). /digest off stops it."
DIGEST_OFF = "🗞 No more digests."
DIGEST_FOLLOWED = "🗞 Your digest: {count} on what you follow"
DIGEST_NOTHING_NEW = "🗞 Your digest: nothing new on what you follow since the last one."
DIGEST_NEWEST = "🗞 Your digest: the newest stories"
TIMEZONE_USAGE = (
    "Usage: /timezone <zone>, an IANA name such as Europe/Berlin ({name!r} is not one)."
)
TIMEZONE_SET = "🕒 Your time zone is now {zone}."
