import { describe, expect, it } from 'vitest';
import { html, joinHtml, raw, SafeHtml } from '../../shared/presentation/html.ts';

describe('the escape-by-default html template', () => {
  it('escapes a raw string interpolated into it, in text and in attributes', () => {
    // Prepare: what a stranger can put in a name
    const hostile = `<script>alert("x")</script><img src=x onerror='y'>&\``;

    // Act
    const out = html`<p title="${hostile}">${hostile}</p>`.toString();

    // Assess
    expect(out).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=&#39;y&#39;&gt;&amp;&#96;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=&#39;y&#39;&gt;&amp;&#96;</p>',
    );
    expect(out).not.toContain('<script>');
  });

  it('does not take a string shaped like markup for markup: only html`` and raw() are trusted', () => {
    // Prepare
    const looksSafe = new SafeHtml('<b>trusted</b>').toString();

    // Act
    const out = html`${looksSafe}|${html`<b>${'a<b'}</b>`}|${raw('<hr>')}`.toString();

    // Assess: the string is escaped; the fragment and the raw constant pass once, not escaped twice
    expect(out).toBe('&lt;b&gt;trusted&lt;/b&gt;|<b>a&lt;b</b>|<hr>');
  });

  it('renders numbers, arrays of fragments, and nothing for null, undefined and false', () => {
    // Act
    const out = html`${1}${[html`<i>`, '<', html`</i>`]}${null}${undefined}${false}${true}`.toString();

    // Assess
    expect(out).toBe('1<i>&lt;</i>true');
  });

  it('joins fragments with an escaped separator', () => {
    // Act
    const out = joinHtml([html`<li>a</li>`, html`<li>b</li>`], '<br>').toString();

    // Assess
    expect(out).toBe('<li>a</li>&lt;br&gt;<li>b</li>');
  });
});
