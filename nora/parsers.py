from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

INVALID_JSON = "The request body must be valid JSON."


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, with a sentence for malformed JSON rather than the decoder's position
    report, and JSON nested past Python's recursion limit refused as a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("The JSON is nested too deeply.") from None
        except ParseError:
            raise ParseError(INVALID_JSON) from None
