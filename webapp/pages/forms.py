from django import forms

from streams import messages


class ClapForm(forms.Form):
    claps = forms.IntegerField(
        label="Number of claps",
        min_value=1,
        max_value=messages.MAX_CLAPS,
        initial=5,
        help_text=f"1 to {messages.MAX_CLAPS}",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=messages.MAX_NOTE,
        strip=False,
        help_text="Shown with your applause.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
